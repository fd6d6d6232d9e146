import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { DataSource, MigrationInterface } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { PlatformMetrics } from '@tenantry/observability';
import { createMetrics } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { PrivateRegistry, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import * as events from '../src';
import {
  EventCodec,
  InboxConsumer,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  dlqTopicOf,
  metadataToHeaders,
  provisionTopics,
} from '../src';
import type { OrderPlaced } from './support/order-catalogue';
import { orderCatalogue } from './support/order-catalogue';
import {
  CreateOrderLedger1764230600000,
  CreateOrders1764230500000,
} from './support/order-migrations';

// Every event-table migration the lib exports, in order (the outbox table gains columns).
const eventTableMigrations = (Object.values(events) as unknown[])
  .filter(
    (value): value is new () => MigrationInterface =>
      typeof value === 'function' &&
      /\d{13}$/.test(value.name) &&
      typeof (value.prototype as { up?: unknown }).up === 'function',
  )
  .sort((a, b) => Number(a.name.slice(-13)) - Number(b.name.slice(-13)));

// Kills its schema registry, so it runs against a private one, not the suite's shared registry.
describe('inbox consumer with the schema registry down', () => {
  const env = testStackEnv();
  const registry = new PrivateRegistry(env.databaseAdminUrl, 23081);
  const domain = `t${randomBytes(4).toString('hex')}`;
  const catalogue = orderCatalogue(domain);
  let consumerName = `${domain}-ledger`;
  const kafka: Kafka = createKafkaClient({ clientId: domain, brokers: env.kafkaBrokers });
  let producerDb: TestDatabase;
  let consumerDb: TestDatabase;
  let producer: DataSource;
  let consumer: DataSource;
  let outbox: Outbox;
  let relay: OutboxRelay;
  let inbox: InboxConsumer | undefined;
  let metrics: PlatformMetrics;

  beforeAll(async () => {
    [producerDb, consumerDb] = await Promise.all([
      createTestDatabase(env.databaseAdminUrl, `${domain}_orders`),
      createTestDatabase(env.databaseAdminUrl, `${domain}_ledger`),
      registry.start(),
    ]);
    const producerConfig = {
      appUrl: producerDb.appUrl,
      ownerUrl: producerDb.ownerUrl,
      entities: [],
      migrations: [...eventTableMigrations, CreateOrders1764230500000],
    };
    const consumerConfig = {
      appUrl: consumerDb.appUrl,
      ownerUrl: consumerDb.ownerUrl,
      entities: [],
      migrations: [...eventTableMigrations, CreateOrderLedger1764230600000],
    };
    await Promise.all([
      migrateServiceDatabase(producerConfig),
      migrateServiceDatabase(consumerConfig),
    ]);
    [producer, consumer] = await Promise.all([
      openServiceDataSource(producerConfig),
      openServiceDataSource(consumerConfig),
    ]);
    await provisionTopics(kafka, [{ name: catalogue.topic, partitions: 3 }]);
    const producerCodec = new EventCodec(registry.ccompatUrl);
    await producerCodec.register([catalogue.orderPlaced]);
    outbox = new Outbox(producerCodec, `/services/${domain}-orders`);
    relay = new OutboxRelay({ dataSource: producer, kafka, pollIntervalMs: 100 });
    await relay.start();
  });

  afterAll(async () => {
    await inbox?.stop();
    await relay?.stop();
    await producer?.destroy();
    await consumer?.destroy();
    await producerDb?.drop();
    await consumerDb?.drop();
    await registry.destroy();
  });

  function placeOrder(tenantId: string, data: OrderPlaced): Promise<void> {
    const context = {
      tenantId,
      actor: { type: 'user' as const, id: 'u-1' },
      requestId: randomUUID(),
    };
    return runWithTenantContext(context, () =>
      withTenant(producer, tenantId, async (tx) => {
        await tx.manager.query(
          `INSERT INTO orders (id, tenant_id, total_cents) VALUES ($1, $2, $3)`,
          [data.orderId, tenantId, data.totalCents],
        );
        // One key per tenant: its events share a partition, so their order is checked too.
        await outbox.publish(tx, catalogue.orderPlaced, {
          subject: data.orderId,
          data,
          key: `${tenantId}:cart`,
        });
      }),
    );
  }

  /** Startup of a consumer as a freshly deployed replica: a new codec, nothing cached. */
  async function startInbox(readAheadBytes?: number): Promise<InboxConsumer> {
    metrics = createMetrics(`${domain}-ledger`);
    const started = new InboxConsumer({
      name: consumerName,
      ...(readAheadBytes === undefined ? {} : { readAheadBytes }),
      kafka,
      dataSource: consumer,
      codec: new EventCodec(registry.ccompatUrl),
      metrics,
      retry: { attempts: 2, initialDelayMs: 50, maxDelayMs: 100 },
      outageBackoff: { initialDelayMs: 100, maxDelayMs: 1000 },
    }).on(catalogue.orderPlaced, async (event, tx) => {
      await tx.manager.query(
        `INSERT INTO order_ledger (tenant_id, order_id, total_cents, actor_id) VALUES ($1, $2, $3, $4)`,
        [event.tenantid, event.data.orderId, event.data.totalCents, event.actorid],
      );
    });
    await started.start();
    return started;
  }

  /** Messages in the DLQ topic, read from Kafka's offsets (not through the code under test). */
  async function dlqDepth(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(dlqTopicOf(catalogue.topic));
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  }

  async function counterValue(name: string): Promise<number> {
    const metric = metrics.registry.getSingleMetric(name);
    const values = metric ? (await metric.get()).values : [];
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  async function ledgerCounts(tenants: string[]): Promise<{ rows: number; distinct: number }> {
    let rows = 0;
    let distinct = 0;
    for (const tenant of tenants) {
      const [row] = await withTenant(consumer, tenant, (tx) =>
        tx.manager.query(
          `SELECT count(*)::int AS rows, count(DISTINCT order_id)::int AS distinct FROM order_ledger`,
        ),
      );
      rows += (row as { rows: number }).rows;
      distinct += (row as { distinct: number }).distinct;
    }
    return { rows, distinct };
  }

  // Read-ahead decodes in kafkajs' batch and applies in a worker: it must pause the same way.
  it.each([
    { how: 'one batch at a time', suffix: '', readAheadBytes: undefined },
    { how: 'reading ahead', suffix: '-ahead', readAheadBytes: 1024 * 1024 },
  ])(
    'pauses without dead-lettering while the registry is down, then applies every event once ($how)',
    async ({ suffix, readAheadBytes }) => {
      await inbox?.stop();
      inbox = undefined;
      consumerName = `${domain}-ledger${suffix}`;
      const tenants = [`tenant-${randomUUID()}`, `tenant-${randomUUID()}`];
      for (let sequence = 1; sequence <= 8; sequence += 1) {
        for (const tenant of tenants) {
          await placeOrder(tenant, { orderId: randomUUID(), totalCents: sequence, note: '' });
        }
      }
      await waitFor('the 16 events on the topic', async () => (await relay.backlog()) === 0);

      await registry.kill();
      inbox = await startInbox(readAheadBytes);
      const consumerInbox = inbox;
      // The first reaction to the outage: a pause, or (the bug this guards against) the DLQ.
      await waitFor(
        'the consumer to pause or dead-letter',
        async () => consumerInbox.pausedPartitions > 0 || (await dlqDepth()) > 0,
        { timeoutMs: 40_000, intervalMs: 200 },
      );
      expect(await dlqDepth()).toBe(0);
      // Paused and retrying: several transient attempts, none of them dead-lettered.
      await waitFor(
        'the consumer to retry',
        async () => (await counterValue('inbox_transient_failures_total')) >= 4,
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(consumerInbox.pausedPartitions).toBeGreaterThan(0);
      expect(await counterValue('inbox_paused_partitions')).toBeGreaterThan(0);
      expect(await dlqDepth()).toBe(0);
      expect(await ledgerCounts(tenants)).toEqual({ rows: 0, distinct: 0 });

      await registry.start();
      await waitFor(
        'all 16 orders in the ledger',
        async () => (await ledgerCounts(tenants)).rows >= 16,
        { timeoutMs: 40_000, intervalMs: 200 },
      );
      await waitFor('the consumer to resume', () => consumerInbox.pausedPartitions === 0);

      expect(await ledgerCounts(tenants)).toEqual({ rows: 16, distinct: 16 });
      const [inboxRows] = await consumer.query(
        `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct
         FROM event_inbox WHERE consumer = $1 AND tenant_id = ANY($2)`,
        // The second consumer also reads the first one's events (the inbox has no RLS).
        [consumerName, tenants],
      );
      expect(inboxRows).toEqual({ rows: 16, distinct: 16 });
      for (const tenant of tenants) {
        const totals = await withTenant(consumer, tenant, (tx) =>
          tx.manager.query(`SELECT total_cents FROM order_ledger ORDER BY seq`),
        );
        expect(totals.map((row: { total_cents: string }) => Number(row.total_cents))).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8,
        ]);
      }
      expect(await dlqDepth()).toBe(0);
      expect(await counterValue('inbox_paused_partitions')).toBe(0);
    },
  );

  it('still dead-letters a truly undecodable event (bad magic byte) with its reason', async () => {
    if (!inbox) inbox = await startInbox();
    const tenant = `tenant-${randomUUID()}`;
    const id = randomUUID();
    const raw = kafka.producer();
    await raw.connect();
    try {
      await raw.send({
        topic: catalogue.topic,
        acks: -1,
        messages: [
          {
            key: `${tenant}:cart`,
            value: Buffer.from('{"not":"avro"}'),
            headers: metadataToHeaders({
              id,
              source: `/services/${domain}-orders`,
              type: catalogue.orderPlaced.type,
              specversion: '1.0',
              time: new Date().toISOString(),
              subject: 'bad',
              tenantid: tenant,
              actortype: 'user',
              actorid: 'u-1',
              correlationid: randomUUID(),
            }),
          },
        ],
      });
    } finally {
      await raw.disconnect();
    }
    // A healthy event after it, on the same partition: the partition moves on past the bad one.
    await placeOrder(tenant, { orderId: randomUUID(), totalCents: 1, note: '' });
    await waitFor(
      'the order after the bad event',
      async () => (await ledgerCounts([tenant])).rows === 1,
    );
    expect(await dlqDepth()).toBe(1);

    const reader = kafka.consumer({ groupId: `${domain}-dlq-reader-${randomUUID()}` });
    const entries: { eventId: string; reason: string }[] = [];
    await reader.connect();
    try {
      await reader.subscribe({ topics: [dlqTopicOf(catalogue.topic)], fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          entries.push({
            eventId: String(message.headers?.ce_id),
            reason: String(message.headers?.['x-dlq-reason']),
          });
        },
      });
      await waitFor('the DLQ entry', () => entries.length > 0);
    } finally {
      await reader.disconnect();
    }
    expect(entries).toHaveLength(1);
    expect(entries[0]?.eventId).toBe(id);
    expect(entries[0]?.reason).toContain('Confluent wire format');
  });
});
