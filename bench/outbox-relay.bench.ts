/**
 * Outbox relay drain: how fast OutboxRelay moves a backlog of committed `event_outbox` rows to
 * Kafka, against a raw kafkajs idempotent producer (acks=all, one request in flight) sending the
 * same messages (key, value bytes, headers) in batches of the same size, in the same run.
 *
 *   npx tsx bench/outbox-relay.bench.ts      (or through bench/run-all.ts)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventDefinition } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import { runWithTenantContext } from '@tenantry/tenancy';
import { createTestDatabase } from '@tenantry/testing';
import type { ItemRecorded } from './support/bench-kit';
import {
  BENCH_TENANTS,
  Cleanup,
  benchLogger,
  benchDomain,
  chunks,
  deferred,
  deleteSubjects,
  deleteTopics,
  fmtRate,
  fmtRatio,
  intFromEnv,
  sizeFromEnv,
  intListFromEnv,
  itemRecorded,
  now,
  pool,
  rate,
  samplePayload,
  seconds,
  table,
  topicMessageCount,
  withTimeout,
  runWhenMain,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface OutboxBenchOptions {
  /** Rows in the backlog. */
  readonly rows: number;
  /** Relay batch sizes to measure (each on its own fresh backlog); the default is 500. */
  readonly batchSizes: readonly number[];
  /** Partitions of the topics. */
  readonly partitions: number;
  /** Rows per Outbox.publishMany call while filling (not timed). */
  readonly fillChunk: number;
  /** Longest a drain may take before the benchmark gives up. */
  readonly timeoutMs: number;
}

export interface OutboxBenchResult {
  readonly batchSize: number;
  readonly rows: number;
  readonly fillSeconds: number;
  readonly relaySeconds: number;
  readonly relayRowsPerSecond: number;
  /** Raw producer runs before and after the relay; the baseline is their mean. */
  readonly baselineRuns: readonly number[];
  readonly baselineMessagesPerSecond: number;
  readonly ratio: number;
  readonly messagesInTopic: number;
  readonly avgValueBytes: number;
  readonly avgHeaderBytes: number;
}

export function outboxOptionsFromEnv(): OutboxBenchOptions {
  return {
    rows: sizeFromEnv('BENCH_OUTBOX_ROWS', 20_000, 100_000),
    batchSizes: intListFromEnv('BENCH_RELAY_BATCH_SIZES', [500]),
    partitions: intFromEnv('BENCH_PARTITIONS', 3),
    fillChunk: 1000,
    timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 600_000),
  };
}

interface OutboxRow {
  partition_key: string;
  headers: Record<string, string>;
  value: Buffer;
}

/** Writes `rows` events through the Outbox, as services do, spread over the bench tenants. */
async function fillBacklog(
  dataSource: DataSource,
  outbox: Outbox,
  definition: EventDefinition<ItemRecorded>,
  rows: number,
  chunk: number,
): Promise<void> {
  const starts = Array.from({ length: Math.ceil(rows / chunk) }, (_, i) => i * chunk);
  await pool(starts, 4, async (start) => {
    const tenantId = BENCH_TENANTS[(start / chunk) % BENCH_TENANTS.length]!;
    const count = Math.min(chunk, rows - start);
    const events = Array.from({ length: count }, (_, j) => {
      const data = samplePayload(start + j);
      return { subject: data.itemId, data };
    });
    const context = {
      tenantId,
      actor: { type: 'service' as const, id: 'bench' },
      requestId: randomUUID(),
    };
    await runWithTenantContext(context, () =>
      withTenant(dataSource, tenantId, (tx) => outbox.publishMany(tx, definition, events)),
    );
  });
}

/** Raw kafkajs: the same messages, same batch size, same producer settings as the relay. */
async function rawProduce(
  kafka: Kafka,
  topic: string,
  messages: readonly Message[],
  batchSize: number,
): Promise<number> {
  const started = now();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    for (const batch of chunks(messages, batchSize)) {
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: batch }] });
    }
    return rate(messages.length, seconds(started));
  } finally {
    await producer.disconnect();
  }
}

async function relayDrain(
  dataSource: DataSource,
  kafka: Kafka,
  rows: number,
  batchSize: number,
  timeoutMs: number,
): Promise<number> {
  let published = 0;
  const allPublished = deferred();
  const relay = new OutboxRelay({
    dataSource,
    kafka,
    batchSize,
    logger: benchLogger,
    onPublished: (count) => {
      published += count;
      if (published >= rows) allPublished.resolve();
    },
  });
  const started = now();
  await relay.start();
  // Done when onPublished has seen every row, or (belt and braces) when the backlog is empty.
  const watch = setInterval(() => {
    relay.backlog().then(
      (left) => left === 0 && allPublished.resolve(),
      () => undefined,
    );
  }, 1000);
  try {
    await withTimeout(allPublished.promise, timeoutMs, `the relay drain (${published} published)`);
    // onPublished runs before the batch's commit: the backlog is empty once that commit lands.
    while ((await relay.backlog()) !== 0) await new Promise((r) => setTimeout(r, 5));
    return seconds(started);
  } finally {
    clearInterval(watch);
    await relay.stop();
  }
}

async function oneBatchSize(
  stack: BenchStack,
  kafka: Kafka,
  codec: EventCodec,
  options: OutboxBenchOptions,
  batchSize: number,
  cleanup: Cleanup,
): Promise<OutboxBenchResult> {
  const domain = benchDomain();
  const definition = itemRecorded(domain, 'relay');
  const rawTopics = [`${domain}.raw-before`, `${domain}.raw-after`];
  const warmupTopic = `${domain}.warmup`;
  const topics = [definition.topic, ...rawTopics, warmupTopic];

  const db = await createTestDatabase(stack.databaseAdminUrl, `${domain}_outbox`);
  cleanup.add(`drop database ${db.name}`, () => db.drop());
  const config = {
    appUrl: db.appUrl,
    ownerUrl: db.ownerUrl,
    entities: [],
    migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
  };
  await migrateServiceDatabase(config);
  const dataSource = await openServiceDataSource(config);
  cleanup.add('close data source', () => dataSource.destroy());

  cleanup.add(`delete topics of ${domain}`, () => deleteTopics(kafka, topics));
  await provisionTopics(
    kafka,
    topics.map((name) => ({ name, partitions: options.partitions, deadLetter: false })),
  );
  cleanup.add(`delete subjects of ${domain}`, () =>
    deleteSubjects(stack.schemaRegistryUrl, [definition as EventDefinition<unknown>]),
  );
  await codec.register([definition as EventDefinition<unknown>]);

  const outbox = new Outbox(codec, `/services/${domain}`);
  const fillStarted = now();
  await fillBacklog(dataSource, outbox, definition, options.rows, options.fillChunk);
  const fillSeconds = seconds(fillStarted);

  // The exact messages the relay will send (it adds no headers while no tracer is installed).
  const stored: OutboxRow[] = await dataSource.query(
    `SELECT partition_key, headers, value FROM event_outbox ORDER BY seq`,
  );
  const messages: Message[] = stored.map((row) => ({
    key: row.partition_key,
    value: row.value,
    headers: { ...row.headers },
  }));
  const avgValueBytes = stored.reduce((n, r) => n + r.value.length, 0) / stored.length;
  const avgHeaderBytes =
    stored.reduce(
      (n, r) =>
        n + Object.entries(r.headers).reduce((m, [k, v]) => m + k.length + Buffer.byteLength(v), 0),
      0,
    ) / stored.length;

  // Warm the broker, the client and the JIT before anything is timed.
  await rawProduce(
    kafka,
    warmupTopic,
    messages.slice(0, Math.min(20_000, messages.length)),
    batchSize,
  );

  const before = await rawProduce(kafka, rawTopics[0]!, messages, batchSize);
  const relaySeconds = await relayDrain(
    dataSource,
    kafka,
    options.rows,
    batchSize,
    options.timeoutMs,
  );
  const after = await rawProduce(kafka, rawTopics[1]!, messages, batchSize);
  const messagesInTopic = await topicMessageCount(kafka, definition.topic);

  const baseline = (before + after) / 2;
  const relayRate = rate(options.rows, relaySeconds);
  return {
    batchSize,
    rows: options.rows,
    fillSeconds,
    relaySeconds,
    relayRowsPerSecond: relayRate,
    baselineRuns: [before, after],
    baselineMessagesPerSecond: baseline,
    ratio: relayRate / baseline,
    messagesInTopic,
    avgValueBytes,
    avgHeaderBytes,
  };
}

export async function runOutboxRelayBench(
  stack: BenchStack,
  options: OutboxBenchOptions = outboxOptionsFromEnv(),
): Promise<OutboxBenchResult[]> {
  const kafka = createKafkaClient({
    clientId: 'bench-outbox',
    brokers: stack.kafkaBrokers,
    logger: benchLogger,
  });
  const codec = new EventCodec(stack.schemaRegistryUrl);
  const results: OutboxBenchResult[] = [];
  for (const batchSize of options.batchSizes) {
    const cleanup = new Cleanup();
    try {
      console.error(
        `[bench] outbox relay: filling ${options.rows} rows, then draining with batch ${batchSize}`,
      );
      const result = await oneBatchSize(stack, kafka, codec, options, batchSize, cleanup);
      console.error(
        `[bench] outbox relay batch ${batchSize} (fill ${result.fillSeconds.toFixed(1)} s): ${fmtRate(result.relayRowsPerSecond)} rows/s, ` +
          `raw ${result.baselineRuns.map(fmtRate).join(' / ')} msg/s, ratio ${fmtRatio(result.ratio)}`,
      );
      results.push(result);
    } finally {
      await cleanup.run();
    }
  }
  return results;
}

export function outboxTable(results: readonly OutboxBenchResult[]): string {
  return table(
    ['outbox relay drain', 'rows', 'relay rows/s', 'raw msg/s', 'ratio', 'in topic'],
    results.map((r) => [
      `batch ${r.batchSize}`,
      String(r.rows),
      fmtRate(r.relayRowsPerSecond),
      fmtRate(r.baselineMessagesPerSecond),
      fmtRatio(r.ratio),
      String(r.messagesInTopic),
    ]),
  );
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    const results = await runOutboxRelayBench(stack);
    console.log(outboxTable(results));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
