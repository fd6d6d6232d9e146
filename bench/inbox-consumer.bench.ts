/**
 * Consumer tax: how fast an InboxConsumer (one tenant transaction with an inbox row per event,
 * handler does one small insert) gets through a topic, against a raw kafkajs consumer
 * (eachMessage, no database work) on the same topic with another group id, in the same run.
 * Diagnostics (BENCH_INBOX_DIAGNOSTICS=0 skips them) split the gap into its parts.
 *
 *   npx tsx bench/inbox-consumer.bench.ts      (or through bench/run-all.ts)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { Consumer, ConsumerRunConfig, Kafka, Message } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventDefinition, EventEnvelope, EventMetadata } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  InboxConsumer,
  createKafkaClient,
  metadataFromHeaders,
  metadataToHeaders,
  provisionTopics,
} from '@tenantry/events';
import { createTestDatabase } from '@tenantry/testing';
import type { ItemRecorded } from './support/bench-kit';
import {
  BENCH_TENANTS,
  Cleanup,
  benchLogger,
  CreateBenchLedger1764231000000,
  benchDomain,
  chunks,
  deferred,
  deleteSubjects,
  deleteTopics,
  fmtRate,
  fmtRatio,
  intFromEnv,
  sizeFromEnv,
  itemRecorded,
  now,
  rate,
  samplePayload,
  seconds,
  table,
  withTimeout,
  runWhenMain,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface InboxBenchOptions {
  readonly events: number;
  readonly partitions: number;
  /** Also run the diagnostic variants (decode only, concurrency, no fsync, db only). */
  readonly diagnostics: boolean;
  readonly timeoutMs: number;
  /** BENCH_CPU_PROFILE: write CPU profiles of the InboxConsumer runs to this directory. */
  readonly cpuProfile?: string;
}

export interface InboxRun {
  readonly name: string;
  readonly eventsPerSecond: number;
  /** Against the raw baseline (mean of the raw runs before and after). */
  ratio: number;
  /** CPU time of this Node process per event (the rest of the wall time is waiting). */
  readonly nodeCpuMicrosPerEvent: number;
  readonly wallMicrosPerEvent: number;
  readonly note: string;
}

export interface InboxBenchResult {
  readonly events: number;
  readonly partitions: number;
  readonly baselineRuns: readonly number[];
  readonly baselineEventsPerSecond: number;
  /** The headline: InboxConsumer with its defaults and an `onBatch` handler. */
  readonly inbox: InboxRun;
  /** The same with an `on` handler (one statement per event, as the services' handlers do). */
  readonly inboxEach: InboxRun;
  readonly runs: readonly InboxRun[];
}

export function inboxOptionsFromEnv(): InboxBenchOptions {
  return {
    events: sizeFromEnv('BENCH_INBOX_EVENTS', 5_000, 20_000),
    partitions: intFromEnv('BENCH_PARTITIONS', 3),
    diagnostics: process.env.BENCH_INBOX_DIAGNOSTICS !== '0',
    timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 600_000),
    ...(process.env.BENCH_CPU_PROFILE ? { cpuProfile: process.env.BENCH_CPU_PROFILE } : {}),
  };
}

const LEDGER_INSERT = `INSERT INTO bench_ledger (tenant_id, item_id, amount_cents) VALUES ($1, $2, $3)`;

/** The handler under test: one small insert into a tenant table. */
async function recordItem(event: EventEnvelope<ItemRecorded>, tx: TenantTransaction) {
  await tx.manager.query(LEDGER_INSERT, [
    event.tenantid,
    event.data.itemId,
    event.data.amountCents,
  ]);
}

const LEDGER_INSERT_MANY = `INSERT INTO bench_ledger (tenant_id, item_id, amount_cents)
  SELECT $1, item_id, amount_cents FROM unnest($2::text[], $3::bigint[]) AS r(item_id, amount_cents)`;

/** The same effect through `onBatch`: one insert for a tenant group's events. */
async function recordItems(events: readonly EventEnvelope<ItemRecorded>[], tx: TenantTransaction) {
  await tx.manager.query(LEDGER_INSERT_MANY, [
    tx.tenantId,
    events.map((event) => event.data.itemId),
    events.map((event) => event.data.amountCents),
  ]);
}

/** Envelopes exactly as the outbox writes them: `ce_` headers, registry-encoded value. */
async function produceEvents(
  kafka: Kafka,
  codec: EventCodec,
  definition: EventDefinition<ItemRecorded>,
  count: number,
): Promise<void> {
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const tenantId = BENCH_TENANTS[i % BENCH_TENANTS.length]!;
    const data = samplePayload(i);
    const metadata: EventMetadata = {
      id: randomUUID(),
      source: '/services/bench',
      type: definition.type,
      specversion: '1.0',
      time: new Date().toISOString(),
      subject: data.itemId,
      tenantid: tenantId,
      actortype: 'service',
      actorid: 'bench',
      correlationid: randomUUID(),
    };
    messages.push({
      key: `${tenantId}:${data.itemId}`,
      value: await codec.encode(definition, data),
      headers: metadataToHeaders(metadata),
    });
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const batch of chunks(messages, 1000)) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [{ topic: definition.topic, messages: batch }],
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * A raw kafkajs consumer in its own group. Timed from the moment `run` returns (the group is
 * joined) to the last message, as the InboxConsumer is.
 */
async function rawConsume(
  kafka: Kafka,
  topic: string,
  groupId: string,
  events: number,
  timeoutMs: number,
  run: (
    done: (n: number) => void,
  ) => Pick<ConsumerRunConfig, 'eachMessage' | 'eachBatch'> & Partial<ConsumerRunConfig>,
): Promise<number> {
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    const all = deferred();
    await consumer.run({
      ...run((n) => {
        seen += n;
        if (seen >= events) all.resolve();
      }),
    });
    const started = now();
    await withTimeout(all.promise, timeoutMs, `consumer ${groupId}`);
    return rate(events, seconds(started));
  } finally {
    await consumer.disconnect();
  }
}

/** Ledger rows of every bench tenant (the table has row-level security). */
async function ledgerRows(dataSource: DataSource): Promise<number> {
  let total = 0;
  for (const tenantId of BENCH_TENANTS) {
    const [row] = await withTenant(dataSource, tenantId, (tx) =>
      tx.manager.query(`SELECT count(*)::int AS n FROM bench_ledger`),
    );
    total += (row as { n: number }).n;
  }
  return total;
}

/**
 * Runs `measure` under the V8 CPU profiler when a directory is given, and writes
 * `<dir>/<name>.cpuprofile` (open it in Chrome DevTools or speedscope).
 */
async function profiled<T>(dir: string | undefined, name: string, measure: () => Promise<T>) {
  if (!dir) return measure();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await measure();
    const { profile } = await session.post('Profiler.stop');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${name}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    console.error(`[bench] inbox consumer: CPU profile of ${name} in ${file}`);
    return result;
  } finally {
    session.disconnect();
  }
}

async function inboxConsume(
  kafka: Kafka,
  dataSource: DataSource,
  codec: EventCodec,
  definition: EventDefinition<ItemRecorded>,
  name: string,
  options: InboxBenchOptions,
  extra: {
    partitionsConsumedConcurrently?: number;
    handlerPrefix?: string;
    /** `onBatch` with one insert per tenant group instead of `on` with one per event. */
    batchHandler?: boolean;
    tenantGroupsConcurrently?: number;
  } = {},
): Promise<number> {
  let seen = 0;
  const other: string[] = [];
  const all = deferred();
  const inbox = new InboxConsumer({
    name,
    kafka,
    dataSource,
    codec,
    logger: benchLogger,
    ...(extra.partitionsConsumedConcurrently
      ? { partitionsConsumedConcurrently: extra.partitionsConsumedConcurrently }
      : {}),
    ...(extra.tenantGroupsConcurrently
      ? { tenantGroupsConcurrently: extra.tenantGroupsConcurrently }
      : {}),
    onOutcome: (outcome, metadata) => {
      if (outcome !== 'processed') other.push(`${outcome} ${metadata?.id}`);
      seen += 1;
      if (seen >= options.events) all.resolve();
    },
  });
  if (extra.batchHandler) {
    inbox.onBatch(definition, recordItems);
  } else {
    inbox.on(definition, async (event, tx) => {
      if (extra.handlerPrefix) await tx.manager.query(extra.handlerPrefix);
      await recordItem(event, tx);
    });
  }
  const ledgerBefore = await ledgerRows(dataSource);
  await inbox.start();
  try {
    const started = now();
    await withTimeout(all.promise, options.timeoutMs, `inbox ${name}`);
    const elapsed = seconds(started);
    if (other.length > 0) throw new Error(`${name}: ${other.length} events not processed`);
    const [row] = await dataSource.query(
      `SELECT count(*)::int AS n FROM event_inbox WHERE consumer = $1`,
      [name],
    );
    if ((row as { n: number }).n !== options.events) {
      throw new Error(`${name}: ${(row as { n: number }).n} inbox rows, ${options.events} events`);
    }
    const applied = (await ledgerRows(dataSource)) - ledgerBefore;
    if (applied !== options.events) {
      throw new Error(`${name}: ${applied} ledger rows for ${options.events} events`);
    }
    return rate(options.events, elapsed);
  } finally {
    await inbox.stop();
  }
}

/** The database side alone: one tenant transaction per event with the same two inserts. */
async function databaseOnly(
  dataSource: DataSource,
  definition: EventDefinition<ItemRecorded>,
  events: number,
): Promise<number> {
  const name = `db-only-${randomUUID()}`;
  const started = now();
  for (let i = 0; i < events; i++) {
    const tenantId = BENCH_TENANTS[i % BENCH_TENANTS.length]!;
    await withTenant(dataSource, tenantId, async (tx) => {
      await tx.manager.query(
        `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING event_id`,
        [name, randomUUID(), definition.type, tenantId],
      );
      await tx.manager.query(LEDGER_INSERT, [tenantId, `db-only-${i}`, i]);
    });
  }
  return rate(events, seconds(started));
}

export async function runInboxConsumerBench(
  stack: BenchStack,
  options: InboxBenchOptions = inboxOptionsFromEnv(),
): Promise<InboxBenchResult> {
  const cleanup = new Cleanup();
  try {
    const kafka = createKafkaClient({
      clientId: 'bench-inbox',
      brokers: stack.kafkaBrokers,
      logger: benchLogger,
    });
    const codec = new EventCodec(stack.schemaRegistryUrl);
    const domain = benchDomain();
    const definition = itemRecorded(domain, 'inbox');
    const group = (what: string): string => `${domain}-${what}`;
    const topic = definition.topic;

    const db = await createTestDatabase(stack.databaseAdminUrl, `${domain}_inbox`);
    cleanup.add(`drop database ${db.name}`, () => db.drop());
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, CreateBenchLedger1764231000000],
    };
    await migrateServiceDatabase(config);
    const dataSource = await openServiceDataSource(config);
    cleanup.add('close data source', () => dataSource.destroy());

    cleanup.add(`delete topics of ${domain}`, () => deleteTopics(kafka, [topic, `${topic}.dlq`]));
    await provisionTopics(kafka, [{ name: topic, partitions: options.partitions }]);
    cleanup.add(`delete subjects of ${domain}`, () =>
      deleteSubjects(stack.schemaRegistryUrl, [definition as EventDefinition<unknown>]),
    );
    await codec.register([definition as EventDefinition<unknown>]);
    cleanup.add(`delete consumer groups of ${domain}`, async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { groups } = await admin.listGroups();
        const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(`${domain}-`));
        if (ours.length > 0) await admin.deleteGroups(ours);
      } finally {
        await admin.disconnect();
      }
    });

    console.error(`[bench] inbox consumer: producing ${options.events} events to ${topic}`);
    await produceEvents(kafka, codec, definition, options.events);

    const countEach = (done: (n: number) => void) => ({
      eachMessage: async () => done(1),
    });
    const runs: InboxRun[] = [];
    const dbOnlyEvents = Math.min(options.events, 5000);
    const step = async (name: string, note: string, measure: () => Promise<number>) => {
      const cpu = process.cpuUsage();
      const eventsPerSecond = await measure();
      const used = process.cpuUsage(cpu);
      console.error(`[bench] inbox consumer: ${name}: ${fmtRate(eventsPerSecond)} events/s`);
      const events = name.startsWith('database only') ? dbOnlyEvents : options.events;
      const run: InboxRun = {
        name,
        eventsPerSecond,
        ratio: 0,
        // Includes the run's setup (connect, join): an upper bound, good for comparing runs.
        nodeCpuMicrosPerEvent: (used.user + used.system) / events,
        wallMicrosPerEvent: 1e6 / eventsPerSecond,
        note,
      };
      runs.push(run);
      return run;
    };

    // Warm-up: one raw pass (broker page cache, client, JIT), and one InboxConsumer pass in its
    // own group (not reported), so the inbox's decode, pg and TypeORM paths are as warm as the
    // raw consumer's when measured: the headline ran cold before, and a diagnostic variant of it
    // run later in the same process came out faster than the headline itself.
    await rawConsume(kafka, topic, group('warmup'), options.events, options.timeoutMs, countEach);
    await inboxConsume(kafka, dataSource, codec, definition, group('inbox-warmup'), options, {
      batchHandler: true,
    });

    const rawBefore = await step('raw kafkajs (before)', 'eachMessage, no database', () =>
      rawConsume(kafka, topic, group('raw-a'), options.events, options.timeoutMs, countEach),
    );
    const inbox = await step('InboxConsumer, onBatch handler', 'one tx + 1 insert per group', () =>
      profiled(options.cpuProfile, 'inbox-on-batch', () =>
        inboxConsume(kafka, dataSource, codec, definition, group('inbox-batch'), options, {
          batchHandler: true,
        }),
      ),
    );
    const inboxEach = await step(
      'InboxConsumer, on handler',
      'one tx per group, insert per event',
      () =>
        profiled(options.cpuProfile, 'inbox-on', () =>
          inboxConsume(kafka, dataSource, codec, definition, group('inbox'), options),
        ),
    );
    if (options.diagnostics) {
      await step('raw + envelope + decode', 'headers + codec.decode (writer schema)', () =>
        rawConsume(kafka, topic, group('decode-w'), options.events, options.timeoutMs, (done) => ({
          eachMessage: async ({ message }) => {
            metadataFromHeaders(message.headers);
            await codec.decode(message.value!);
            done(1);
          },
        })),
      );
      await step('raw + envelope + decodeAs', 'headers + codec.decodeAs (inbox path)', () =>
        rawConsume(kafka, topic, group('decode'), options.events, options.timeoutMs, (done) => ({
          eachMessage: async ({ message }) => {
            metadataFromHeaders(message.headers);
            await codec.decodeAs(definition, message.value!);
            done(1);
          },
        })),
      );
      await step(
        'InboxConsumer, onBatch, 1 tenant group at a time',
        'tenantGroupsConcurrently: 1 (default 2)',
        () =>
          inboxConsume(kafka, dataSource, codec, definition, group('inbox-serial'), options, {
            batchHandler: true,
            tenantGroupsConcurrently: 1,
          }),
      );
      await step(
        'InboxConsumer, onBatch, 1 partition at a time',
        'partitionsConsumedConcurrently: 1 (default 3)',
        () =>
          inboxConsume(kafka, dataSource, codec, definition, group('inbox-p1'), options, {
            batchHandler: true,
            partitionsConsumedConcurrently: 1,
          }),
      );
      await step(
        'InboxConsumer, no commit fsync (diagnostic)',
        'handler sets synchronous_commit off',
        () =>
          inboxConsume(kafka, dataSource, codec, definition, group('inbox-async'), options, {
            handlerPrefix: `SET LOCAL synchronous_commit TO off`,
          }),
      );
      await step('database only (no Kafka)', 'tx per event: inbox row + insert', () =>
        databaseOnly(dataSource, definition, dbOnlyEvents),
      );
    }
    const rawAfter = await step('raw kafkajs (after)', 'eachMessage, no database', () =>
      rawConsume(kafka, topic, group('raw-b'), options.events, options.timeoutMs, countEach),
    );

    const baseline = (rawBefore.eventsPerSecond + rawAfter.eventsPerSecond) / 2;
    for (const run of runs) run.ratio = run.eventsPerSecond / baseline;
    return {
      events: options.events,
      partitions: options.partitions,
      baselineRuns: [rawBefore.eventsPerSecond, rawAfter.eventsPerSecond],
      baselineEventsPerSecond: baseline,
      inbox,
      inboxEach,
      runs,
    };
  } finally {
    await cleanup.run();
  }
}

export function inboxTable(result: InboxBenchResult): string {
  return table(
    [`inbox consumer (${result.events} events)`, 'events/s', 'ratio', 'µs/ev', 'node cpu', 'what'],
    result.runs.map((r) => [
      r.name,
      fmtRate(r.eventsPerSecond),
      fmtRatio(r.ratio),
      r.wallMicrosPerEvent.toFixed(0),
      r.nodeCpuMicrosPerEvent.toFixed(0),
      r.note,
    ]),
  );
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    const result = await runInboxConsumerBench(stack);
    console.log(inboxTable(result));
    console.log(
      `\ninbox ratio ${fmtRatio(result.inbox.ratio)} (aim >= 0.3; onBatch handler) ` +
        `(InboxConsumer ${fmtRate(result.inbox.eventsPerSecond)} / raw ${fmtRate(result.baselineEventsPerSecond)} events/s); ` +
        `on handler ${fmtRatio(result.inboxEach.ratio)} (${fmtRate(result.inboxEach.eventsPerSecond)} events/s)`,
    );
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
