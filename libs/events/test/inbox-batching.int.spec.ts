import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { EventEnvelope, EventMetadata, InboxConsumerOptions, InboxOutcome } from '../src';
import {
  DeadLetterReplayer,
  EventCodec,
  EventTables1764230400000,
  InboxConsumer,
  createKafkaClient,
  metadataToHeaders,
  provisionTopics,
} from '../src';
import type { OrderPlaced } from './support/order-catalogue';
import { orderCatalogue } from './support/order-catalogue';
import { CreateOrderLedger1764230600000 } from './support/order-migrations';

interface Planned {
  readonly id: string;
  readonly tenant: string;
  readonly orderId: string;
  readonly note?: string;
}

interface Seen {
  readonly outcome: InboxOutcome;
  readonly id?: string;
  readonly tenant?: string;
}

/**
 * The batched inbox: events reach the consumer as whole kafkajs batches, produced here straight
 * to Kafka (the outbox's envelope, chosen ids) so a test decides what one batch holds.
 */
describe('inbox consumer on batches', () => {
  const env = testStackEnv();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const kafka: Kafka = createKafkaClient({ clientId: prefix, brokers: env.kafkaBrokers });
  const codec = new EventCodec(env.schemaRegistryUrl);
  const started: InboxConsumer[] = [];
  let db: TestDatabase;
  let dataSource: DataSource;

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

  afterEach(async () => {
    await Promise.all(started.splice(0).map((inbox) => inbox.stop()));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A fresh one-partition topic and event type, so every event of a test shares a partition. */
  async function freshCatalogue() {
    const catalogue = orderCatalogue(`${prefix}${randomBytes(3).toString('hex')}`);
    await provisionTopics(kafka, [{ name: catalogue.topic, partitions: 1 }]);
    await codec.register([catalogue.orderPlaced]);
    return catalogue;
  }

  /**
   * All in one produce request: they land together and are fetched as one batch. With `perSend`,
   * that many per request instead: each request is a record batch of its own on the broker, so a
   * small `maxBytesPerPartition` makes the consumer fetch them a few at a time.
   */
  async function produce(
    catalogue: ReturnType<typeof orderCatalogue>,
    events: readonly Planned[],
    partition?: number,
    perSend = events.length,
  ): Promise<void> {
    const messages = await Promise.all(
      events.map(async (event) => {
        const data: OrderPlaced = { orderId: event.orderId, totalCents: 1, note: event.note ?? '' };
        const metadata: EventMetadata = {
          id: event.id,
          source: '/services/test',
          type: catalogue.orderPlaced.type,
          specversion: '1.0',
          time: new Date().toISOString(),
          subject: event.orderId,
          tenantid: event.tenant,
          actortype: 'user',
          actorid: 'u-1',
          correlationid: randomUUID(),
        };
        return {
          ...(partition === undefined ? {} : { partition }),
          key: `${event.tenant}:cart`,
          value: await codec.encode(catalogue.orderPlaced, data),
          headers: metadataToHeaders(metadata),
        };
      }),
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let start = 0; start < messages.length; start += perSend) {
        const chunk = messages.slice(start, start + perSend);
        await producer.send({ topic: catalogue.topic, acks: -1, messages: chunk });
      }
    } finally {
      await producer.disconnect();
    }
  }

  async function insertOrders(tx: TenantTransaction, orderIds: readonly string[]): Promise<void> {
    await tx.manager.query(
      `INSERT INTO order_ledger (tenant_id, order_id, total_cents, actor_id)
       SELECT $1, order_id, 1, 'inbox' FROM unnest($2::text[]) AS o(order_id)`,
      [tx.tenantId, orderIds],
    );
  }

  /**
   * Per-event handler (`on`) unless `batch`; either refuses an order whose note is "poison", and
   * takes `slowMs` longer per call for an order whose note is "slow".
   */
  async function startInbox(
    catalogue: ReturnType<typeof orderCatalogue>,
    name: string,
    seen: Seen[],
    options: { batch?: boolean; slowMs?: number } & Partial<InboxConsumerOptions> = {},
  ): Promise<InboxConsumer> {
    const refuse = (event: EventEnvelope<OrderPlaced>): void => {
      if (event.data.note === 'poison') throw new Error(`order ${event.data.orderId} refused`);
    };
    const slow = async (events: readonly EventEnvelope<OrderPlaced>[]): Promise<void> => {
      if (options.slowMs && events.some((event) => event.data.note === 'slow')) {
        await new Promise((resolve) => setTimeout(resolve, options.slowMs));
      }
    };
    const inbox = new InboxConsumer({
      name,
      kafka,
      dataSource,
      codec,
      retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
      onOutcome: (outcome, metadata) =>
        seen.push({ outcome, id: metadata?.id, tenant: metadata?.tenantid }),
      ...options,
    });
    if (options.batch) {
      inbox.onBatch(catalogue.orderPlaced, async (events, tx) => {
        events.forEach(refuse);
        await slow(events);
        await insertOrders(
          tx,
          events.map((event) => event.data.orderId),
        );
      });
    } else {
      inbox.on(catalogue.orderPlaced, async (event, tx) => {
        refuse(event);
        await slow([event]);
        await insertOrders(tx, [event.data.orderId]);
      });
    }
    await inbox.start();
    started.push(inbox);
    return inbox;
  }

  async function ledger(tenant: string): Promise<string[]> {
    const rows: { order_id: string }[] = await withTenant(dataSource, tenant, (tx) =>
      tx.manager.query(`SELECT order_id FROM order_ledger ORDER BY seq`),
    );
    return rows.map((row) => row.order_id);
  }

  function plan(tenant: string, count: number, tag = 'o'): Planned[] {
    return Array.from({ length: count }, (_, i) => ({
      id: randomUUID(),
      tenant,
      orderId: `${tag}-${i + 1}`,
    }));
  }

  const count = (seen: Seen[], outcome: InboxOutcome): number =>
    seen.filter((s) => s.outcome === outcome).length;

  it('applies a redelivered batch once: every event of the second delivery is a duplicate', async () => {
    const catalogue = await freshCatalogue();
    const tenant = `tenant-${randomUUID()}`;
    const events = plan(tenant, 30);
    await produce(catalogue, events);
    const name = `${catalogue.topic}-inbox`;
    const seen: Seen[] = [];
    const inbox = await startInbox(catalogue, name, seen, { batch: true });
    await waitFor('the first delivery', () => count(seen, 'processed') === 30);
    await inbox.stop();

    // A crash before the offset commit: the group starts again from the beginning.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.resetOffsets({ groupId: name, topic: catalogue.topic, earliest: true });
    } finally {
      await admin.disconnect();
    }
    await startInbox(catalogue, name, seen, { batch: true });
    await waitFor('the second delivery', () => count(seen, 'duplicate') === 30);

    expect(count(seen, 'processed')).toBe(30);
    expect(await ledger(tenant)).toEqual(events.map((event) => event.orderId));
  });

  it('applies an event once when its id is twice in one batch', async () => {
    const catalogue = await freshCatalogue();
    const tenant = `tenant-${randomUUID()}`;
    const [a, b, c] = plan(tenant, 3) as [Planned, Planned, Planned];
    await produce(catalogue, [a, b, a, c, b]);
    const seen: Seen[] = [];
    await startInbox(catalogue, `${catalogue.topic}-inbox`, seen);
    await waitFor('all five deliveries', () => seen.length === 5);

    expect(seen.map((s) => [s.outcome, s.id])).toEqual([
      ['processed', a.id],
      ['processed', b.id],
      ['duplicate', a.id],
      ['processed', c.id],
      ['duplicate', b.id],
    ]);
    expect(await ledger(tenant)).toEqual([a.orderId, b.orderId, c.orderId]);
  });

  it('dead-letters only the event its handler refuses in the middle of a batch, and applies the rest once', async () => {
    const catalogue = await freshCatalogue();
    const tenant = `tenant-${randomUUID()}`;
    const events = plan(tenant, 21).map((event, i) =>
      i === 10 ? { ...event, note: 'poison' } : event,
    );
    await produce(catalogue, events);
    const seen: Seen[] = [];
    const name = `${catalogue.topic}-inbox`;
    // A batch handler: the whole group's insert fails, then each event runs alone.
    await startInbox(catalogue, name, seen, { batch: true });
    await waitFor('every event settled', () => seen.length === 21);

    const poison = events[10] as Planned;
    expect(seen.filter((s) => s.outcome === 'dead_lettered').map((s) => s.id)).toEqual([poison.id]);
    expect(count(seen, 'processed')).toBe(20);
    expect(await ledger(tenant)).toEqual(
      events.filter((event) => event !== poison).map((event) => event.orderId),
    );
    const entries = await waitFor('the DLQ entry', async () => {
      const all = await new DeadLetterReplayer(kafka).list(catalogue.topic);
      return all.length > 0 ? all : undefined;
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      eventId: poison.id,
      tenantId: tenant,
      consumer: name,
      attempts: 2,
    });
    expect(entries[0]?.reason).toContain('refused');
  });

  it('tells a batch handler the topic and partition its events were fetched from', async () => {
    const catalogue = orderCatalogue(`${prefix}${randomBytes(3).toString('hex')}`);
    await provisionTopics(kafka, [{ name: catalogue.topic, partitions: 2 }]);
    await codec.register([catalogue.orderPlaced]);
    const tenant = `tenant-${randomUUID()}`;
    const onZero = plan(tenant, 4, 'p0');
    const onOne = plan(tenant, 3, 'p1');
    await produce(catalogue, onZero, 0);
    await produce(catalogue, onOne, 1);
    const sources = new Map<string, { topic: string; partition: number }>();
    const inbox = new InboxConsumer({
      name: `${catalogue.topic}-inbox`,
      kafka,
      dataSource,
      codec,
    });
    inbox.onBatch(catalogue.orderPlaced, async (events, tx, source) => {
      for (const event of events) sources.set(event.data.orderId, { ...source });
      await insertOrders(
        tx,
        events.map((event) => event.data.orderId),
      );
    });
    await inbox.start();
    started.push(inbox);
    await waitFor('every event', () => sources.size === 7);

    for (const event of onZero) {
      expect(sources.get(event.orderId)).toEqual({ topic: catalogue.topic, partition: 0 });
    }
    for (const event of onOne) {
      expect(sources.get(event.orderId)).toEqual({ topic: catalogue.topic, partition: 1 });
    }
  });

  it("does not hold one tenant's events behind another tenant's burst for more than one group", async () => {
    const catalogue = await freshCatalogue();
    const burst = `tenant-${randomUUID()}`;
    const quiet = `tenant-${randomUUID()}`;
    const burstEvents = plan(burst, 60, 'burst');
    const quietEvents = plan(quiet, 3, 'quiet');
    // The quiet tenant's events come after the whole burst in the partition.
    await produce(catalogue, [...burstEvents, ...quietEvents]);
    const seen: Seen[] = [];
    // One group at a time, so the order of outcomes is the order the groups ran in.
    await startInbox(catalogue, `${catalogue.topic}-inbox`, seen, {
      maxEventsPerTransaction: 10,
      tenantGroupsConcurrently: 1,
    });
    await waitFor('every event', () => seen.length === 63);

    // One group of the burst (10), then the quiet tenant's group, then the rest of the burst.
    const quietPositions = seen.flatMap((s, i) => (s.tenant === quiet ? [i] : []));
    expect(quietPositions).toEqual([10, 11, 12]);
    expect(seen.every((s) => s.outcome === 'processed')).toBe(true);
    // Each tenant's own order is kept.
    expect(await ledger(burst)).toEqual(burstEvents.map((event) => event.orderId));
    expect(await ledger(quiet)).toEqual(quietEvents.map((event) => event.orderId));
  });

  describe('with read-ahead', () => {
    /** Small fetches (a few record batches of 10 events each) and small, slow burst groups. */
    const readAhead = {
      batch: true,
      slowMs: 25,
      readAheadBytes: 1024 * 1024,
      maxBytesPerPartition: 4 * 1024,
      maxEventsPerTransaction: 10,
      tenantGroupsConcurrently: 1,
    };

    async function committedOffset(group: string, topic: string): Promise<number> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return Number(offsets?.partitions[0]?.offset ?? -1);
      } finally {
        await admin.disconnect();
      }
    }

    it("does not hold a tenant behind another tenant's burst of many fetches for more than a few rounds", async () => {
      const catalogue = await freshCatalogue();
      const burst = `tenant-${randomUUID()}`;
      const quiet = `tenant-${randomUUID()}`;
      const burstEvents = plan(burst, 400, 'burst').map((e) => ({ ...e, note: 'slow' }));
      const quietEvents = plan(quiet, 3, 'quiet');
      // The quiet tenant's events come after the whole burst, 40 record batches later.
      await produce(catalogue, [...burstEvents, ...quietEvents], undefined, 10);
      const seen: Seen[] = [];
      const name = `${catalogue.topic}-inbox`;
      const settledBatches: { firstOffset: string; lastOffset: string }[] = [];
      await startInbox(catalogue, name, seen, {
        ...readAhead,
        onBatchSettled: (batch) => settledBatches.push(batch),
      });
      await waitFor('every event', () => seen.length === 403, { timeoutMs: 60_000 });

      // Without read-ahead the quiet tenant would wait for the fetches of the burst ahead of it:
      // at least 390 of its events. Fetching ahead, it is met while the burst's groups still run.
      const quietPositions = seen.flatMap((s, i) => (s.tenant === quiet ? [i] : []));
      expect(quietPositions[0]).toBeLessThan(200);
      expect(seen.every((s) => s.outcome === 'processed')).toBe(true);
      expect(await ledger(burst)).toEqual(burstEvents.map((event) => event.orderId));
      expect(await ledger(quiet)).toEqual(quietEvents.map((event) => event.orderId));
      // Everything settled is committed, and every fetched batch was reported, in order.
      await waitFor('the final commit', async () =>
        (await committedOffset(name, catalogue.topic)) === 403 ? true : undefined,
      );
      expect(settledBatches.length).toBeGreaterThan(1);
      expect(settledBatches[0]?.firstOffset).toBe('0');
      expect(settledBatches.at(-1)?.lastOffset).toBe('402');
    });

    it('commits only what is applied: stopped mid-burst and started again, it applies every event once, in order', async () => {
      const catalogue = await freshCatalogue();
      const tenant = `tenant-${randomUUID()}`;
      const events = plan(tenant, 300).map((e) => ({ ...e, note: 'slow' }));
      await produce(catalogue, events, undefined, 10);
      const name = `${catalogue.topic}-inbox`;
      const seen: Seen[] = [];
      const first = await startInbox(catalogue, name, seen, readAhead);
      await waitFor('part of the burst', () => (count(seen, 'processed') >= 50 ? true : undefined));
      await first.stop();
      started.splice(started.indexOf(first), 1);

      // It had fetched far ahead of what it applied; the commit stayed with what it applied.
      const applied = count(seen, 'processed');
      expect(applied).toBeLessThan(300);
      expect(await committedOffset(name, catalogue.topic)).toBeLessThanOrEqual(applied);

      await startInbox(catalogue, name, seen, readAhead);
      await waitFor('the rest', () => (count(seen, 'processed') === 300 ? true : undefined), {
        timeoutMs: 60_000,
      });
      expect(await ledger(tenant)).toEqual(events.map((event) => event.orderId));
      expect(seen.filter((s) => s.outcome !== 'processed' && s.outcome !== 'duplicate')).toEqual(
        [],
      );
    });
  });
});
