import { randomBytes, randomUUID } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import { createMetrics } from '@tenantry/observability';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { EventMetadata, InboxOutcome } from '../src';
import {
  EventCodec,
  EventTables1764230400000,
  InboxConsumer,
  createKafkaClient,
  dlqTopicOf,
  metadataToHeaders,
  provisionTopics,
} from '../src';
import type { OrderPlaced } from './support/order-catalogue';
import { orderCatalogue } from './support/order-catalogue';
import { CreateOrderLedger1764230600000 } from './support/order-migrations';

const DLQ_LIMIT_BYTES = 1024;

/**
 * kafkajs restarts a consumer after a retriable crash and stops it for good after any other.
 * Here the other kind, made real: an event its handler refuses must go to a DLQ topic that
 * refuses the record (MESSAGE_TOO_LARGE, not retriable), which crashes the kafkajs consumer.
 */
describe('an inbox consumer whose kafkajs consumer crashes for good', () => {
  const env = testStackEnv();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const kafka: Kafka = createKafkaClient({ clientId: prefix, brokers: env.kafkaBrokers });
  const codec = new EventCodec(env.schemaRegistryUrl);
  let catalogue = orderCatalogue(prefix);
  const metrics = createMetrics(`${prefix}-crash`);
  const logs: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  const logger = {
    error: (message: string, meta?: Record<string, unknown>) =>
      logs.push({ level: 'error', message, meta }),
    warn: (message: string, meta?: Record<string, unknown>) =>
      logs.push({ level: 'warn', message, meta }),
    info: (message: string, meta?: Record<string, unknown>) =>
      logs.push({ level: 'info', message, meta }),
    debug: () => undefined,
  };
  const seen: { outcome: InboxOutcome; orderId?: string }[] = [];
  let db: TestDatabase;
  let dataSource: DataSource;
  let inbox: InboxConsumer;

  async function setDlqLimit(bytes: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: dlqTopicOf(catalogue.topic),
            configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  }

  async function produce(tenant: string, orderId: string, note: string): Promise<void> {
    const metadata: EventMetadata = {
      id: randomUUID(),
      source: '/services/test',
      type: catalogue.orderPlaced.type,
      specversion: '1.0',
      time: new Date().toISOString(),
      subject: orderId,
      tenantid: tenant,
      actortype: 'user',
      actorid: 'u-1',
      correlationid: randomUUID(),
    };
    const data: OrderPlaced = { orderId, totalCents: 1, note };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({
        topic: catalogue.topic,
        acks: -1,
        messages: [
          {
            key: `${tenant}:cart`,
            value: await codec.encode(catalogue.orderPlaced, data),
            headers: metadataToHeaders(metadata),
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function ledger(tenant: string): Promise<string[]> {
    const rows: { order_id: string }[] = await withTenant(dataSource, tenant, (tx) =>
      tx.manager.query(`SELECT order_id FROM order_ledger ORDER BY seq`),
    );
    return rows.map((row) => row.order_id);
  }

  async function crashes(restartedBy: string): Promise<number> {
    const metric = await metrics.registry.getSingleMetric('inbox_consumer_crashes_total')?.get();
    return (metric?.values ?? [])
      .filter((v) => v.labels.restarted_by === restartedBy)
      .reduce((sum, v) => sum + v.value, 0);
  }

  beforeAll(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, `${prefix}_ledger`);
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, CreateOrderLedger1764230600000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  /** A fresh one-partition topic (and type) whose DLQ refuses records over DLQ_LIMIT_BYTES. */
  async function freshTopic(suffix: string): Promise<void> {
    catalogue = orderCatalogue(`${prefix}${suffix}`);
    await provisionTopics(kafka, [{ name: catalogue.topic, partitions: 1 }]);
    await codec.register([catalogue.orderPlaced]);
    await setDlqLimit(DLQ_LIMIT_BYTES);
  }

  afterAll(async () => {
    await inbox?.stop();
    await dataSource?.destroy();
    await db?.drop();
  });

  // With read-ahead the dead-letter send fails in the partition's worker, not in kafkajs' batch:
  // the inbox restarts the consumer itself, the same way.
  it.each([
    { how: 'one batch at a time', suffix: 'a', readAheadBytes: undefined },
    { how: 'reading ahead', suffix: 'b', readAheadBytes: 1024 * 1024 },
  ])(
    'is replaced by a new one with backoff, and resumes where it stopped once the cause is fixed ($how)',
    async ({ suffix, readAheadBytes }) => {
      await inbox?.stop();
      await freshTopic(suffix);
      seen.length = 0;
      logs.length = 0;
      const crashesBefore = await crashes('inbox');
      const name = `${prefix}-ledger-${suffix}`;
      const tenant = `tenant-${randomUUID()}`;
      await produce(tenant, 'before', '');
      // Refused by the handler, then too large for its DLQ: the record the crash is about.
      await produce(tenant, 'refused', `poison ${'x'.repeat(4 * DLQ_LIMIT_BYTES)}`);
      await produce(tenant, 'after', '');

      inbox = new InboxConsumer({
        name,
        ...(readAheadBytes === undefined ? {} : { readAheadBytes }),
        kafka,
        dataSource,
        codec,
        logger,
        metrics,
        retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10 },
        outageBackoff: { initialDelayMs: 200, maxDelayMs: 1000 },
        onOutcome: (outcome, metadata) => seen.push({ outcome, orderId: metadata?.subject }),
      }).on(catalogue.orderPlaced, async (event, tx) => {
        if (event.data.note.startsWith('poison')) throw new Error('order refused');
        await tx.manager.query(
          `INSERT INTO order_ledger (tenant_id, order_id, total_cents, actor_id) VALUES ($1, $2, 1, 'inbox')`,
          [tx.tenantId, event.data.orderId],
        );
      });
      await inbox.start();

      // kafkajs gives up on it; the inbox restarts it, more than once while the DLQ still refuses.
      // Events that arrive while it crash-loops: fetched while a replacement is pending, they
      // must neither be lost nor let an offset past the refused event be committed.
      await waitFor(
        'the first restart by the inbox',
        async () => (await crashes('inbox')) >= crashesBefore + 1,
        { timeoutMs: 60_000 },
      );
      await produce(tenant, 'late-1', '');
      await waitFor(
        'two restarts by the inbox',
        async () => (await crashes('inbox')) >= crashesBefore + 2,
        { timeoutMs: 60_000 },
      );
      await produce(tenant, 'late-2', '');
      expect(await ledger(tenant)).toEqual(['before']);
      expect(seen.filter((s) => s.outcome === 'dead_lettered')).toEqual([]);
      const restartLog = logs.find((l) =>
        l.message.startsWith('consumer crashed and kafkajs will not restart it'),
      );
      expect(restartLog).toMatchObject({ level: 'error', meta: { consumer: name } });
      expect(String((restartLog?.meta?.err as Error | undefined)?.message)).toMatch(
        /larger than the max message size/,
      );

      // The operator raises the DLQ's limit: the refused event is dead-lettered once, the next
      // one applied, and the consumer is running again.
      await setDlqLimit(1024 * 1024);
      await waitFor(
        'the events after the refused one',
        async () => (await ledger(tenant)).includes('late-2'),
        { timeoutMs: 60_000 },
      );
      expect(await ledger(tenant)).toEqual(['before', 'after', 'late-1', 'late-2']);
      expect(seen.filter((s) => s.outcome === 'dead_lettered').map((s) => s.orderId)).toEqual([
        'refused',
      ]);
      await waitFor('the consumer running', () => inbox.running);
      expect(logs.some((l) => l.message === 'consumer rejoined its group after a crash')).toBe(
        true,
      );
    },
    150_000,
  );
});
