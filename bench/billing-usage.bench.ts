/**
 * Billing's usage ingestion: billing's real usage consumer (createBillingConsumers: its inbox
 * options, its `api-call.completed` handler, its ledger and aggregates in a fresh billing
 * database) against a raw kafkajs consumer of the same events in the same run, the time one
 * fetched inbox batch takes, and the flood scenario: tenant A floods, tenant B's single call
 * arrives while A's backlog drains; how long B waits (produce -> committed in the ledger),
 * against that batch time.
 *
 * The consumers read private copies of `identity.events` and `gateway.usage` (same event types,
 * schemas, keys and partition count): a flood on the shared topics would be read, refused and
 * dead-lettered by every billing test and service started in the next 24 hours.
 *
 *   npx tsx bench/billing-usage.bench.ts      (or BENCH_ONLY=billing npm run bench)
 *   BENCH_BILLING_FULL=1 ...                  (100,000 events, floods of 50,000)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import type { EventMetadata, InboxOutcome } from '@tenantry/events';
// The benchmark runs billing's own consumer and schema; nothing else imports its test support.
// eslint-disable-next-line @nx/enforce-module-boundaries
import type { FinishedBatch } from '../services/billing/test/support/private-topic-billing';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { PrivateTopicBilling } from '../services/billing/test/support/private-topic-billing';
import {
  benchDomain,
  benchFull,
  benchLogger,
  deferred,
  fmtRate,
  fmtRatio,
  intFromEnv,
  now,
  rate,
  runWhenMain,
  seconds,
  table,
  withTimeout,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface BillingBenchOptions {
  /** Usage events of the ingestion run, spread over `tenants`. */
  readonly events: number;
  readonly tenants: number;
  /** Tenant A's flood in each flood case. */
  readonly flood: number;
  readonly timeoutMs: number;
}

export interface BatchTimes {
  readonly batches: number;
  readonly medianSize: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly maxMs: number;
}

export interface FloodCase {
  readonly name: string;
  readonly how: string;
  readonly flood: number;
  /** A's events on B's partition, of the flood. */
  readonly aOnBPartition: number;
  /**
   * From B's send (right after A's flood was produced) to the commit of its ledger row (the
   * inbox's onOutcome, called after the commit).
   */
  readonly bDelayMs: number;
  /** Over every probe of B (right after the flood, then at 25 / 50 / 75 % of A applied). */
  readonly bDelayMaxMs: number;
  readonly bDelayMedianMs: number;
  /** A's events not yet applied when B's first event was committed. */
  readonly aPendingAtB: number;
  /** From A's first send until all of A's events were applied. */
  readonly aDrainSeconds: number;
  /**
   * Most the process's JavaScript memory (heap and the buffers outside it: kafkajs' fetched
   * messages are views into each fetch's buffer) grew while A's flood was produced and applied
   * (MiB): what read-ahead holds, and the garbage between collections. Producer and consumer
   * share the process.
   */
  readonly memoryGrowthMiB: number;
  readonly batches: BatchTimes;
  /** B's longest delay / the ingestion run's median batch time (aim <= 1). */
  ratio: number;
}

export interface BillingBenchResult {
  readonly events: number;
  readonly tenants: number;
  readonly partitions: number;
  readonly billingEventsPerSecond: number;
  readonly baselineRuns: readonly number[];
  readonly baselineEventsPerSecond: number;
  readonly ratio: number;
  /** Fetched batches of the ingestion run (kafkajs END_BATCH_PROCESS of the usage consumer). */
  readonly batch: BatchTimes;
  readonly cases: readonly FloodCase[];
}

export function billingOptionsFromEnv(): BillingBenchOptions {
  // BENCH_BILLING_FULL=1 is the older spelling of BENCH_FULL=1 for this benchmark alone.
  const full = benchFull() || process.env.BENCH_BILLING_FULL === '1';
  return {
    // Full: long enough (about 5 s of billing) that filling and draining the pipeline of 12
    // partitions is not most of the run; at 20,000 it was (see bench/README.md).
    events: intFromEnv('BENCH_BILLING_EVENTS', full ? 100_000 : 5_000),
    tenants: intFromEnv('BENCH_BILLING_TENANTS', 8),
    flood: intFromEnv('BENCH_BILLING_FLOOD', full ? 50_000 : 5_000),
    timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 600_000),
  };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function batchTimes(batches: readonly FinishedBatch[]): BatchTimes {
  const full = batches.filter((b) => b.size > 0);
  const durations = full.map((b) => b.durationMs);
  return {
    batches: full.length,
    medianSize: quantile(
      full.map((b) => b.size),
      0.5,
    ),
    medianMs: quantile(durations, 0.5),
    p90Ms: quantile(durations, 0.9),
    maxMs: durations.length > 0 ? Math.max(...durations) : 0,
  };
}

/** A raw kafkajs consumer (own group, eachMessage that only counts), timed from the join. */
async function rawConsume(
  kafka: Kafka,
  topic: string,
  groupId: string,
  events: number,
  timeoutMs: number,
): Promise<number> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    const all = deferred();
    await consumer.run({
      eachMessage: async () => {
        seen += 1;
        if (seen >= events) all.resolve();
      },
    });
    const started = now();
    await withTimeout(all.promise, timeoutMs, `consumer ${groupId}`);
    return rate(events, seconds(started));
  } finally {
    await consumer.disconnect();
  }
}

interface Handled {
  readonly outcome: InboxOutcome;
  readonly metadata: EventMetadata | undefined;
  readonly at: bigint;
}

/** Billing's usage consumer on `topic` until `expected` events are handled. */
function observedUsage(billing: PrivateTopicBilling, usageTopic: string) {
  const handled: Handled[] = [];
  const batches: FinishedBatch[] = [];
  const waiters: { until: (h: Handled) => boolean; done: () => void }[] = [];
  const { usage } = billing.consumers(
    {
      outcome: (_consumer, outcome, metadata) => {
        const entry = { outcome, metadata, at: now() };
        handled.push(entry);
        for (const waiter of [...waiters]) {
          if (waiter.until(entry)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.done();
          }
        }
      },
      batch: (batch) => batches.push(batch),
    },
    { usageTopic },
  );
  return {
    usage,
    handled,
    batches,
    /** Resolves at the first handled event for which `until` is true (from now on). */
    when(until: (h: Handled) => boolean): Promise<void> {
      const d = deferred();
      waiters.push({ until, done: () => d.resolve() });
      return d.promise;
    },
  };
}

/**
 * Billing's usage consumer once over `events` usage events of other tenants on a topic of its
 * own, not reported: the raw consumer gets a warm-up pass too, so both are JIT-warm when timed.
 */
async function warmUp(
  billing: PrivateTopicBilling,
  tenants: readonly string[],
  events: number,
  timeoutMs: number,
): Promise<void> {
  const topic = await billing.provisionUsageTopic('warmup');
  const messages: Message[] = [];
  for (let i = 0; i < events; i++) {
    messages.push((await billing.usageMessage(tenants[i % tenants.length]!)).message);
  }
  await billing.produce(topic, messages, 1000);
  const run = observedUsage(billing, topic);
  let counted = 0;
  const all = run.when(() => ++counted >= events);
  await billing.start(run.usage);
  try {
    await withTimeout(all, timeoutMs, 'billing usage consumer (warm-up)');
  } finally {
    await billing.stop(run.usage);
  }
}

async function ingestion(
  billing: PrivateTopicBilling,
  tenants: readonly string[],
  warmTenants: readonly string[],
  options: BillingBenchOptions,
): Promise<{ eventsPerSecond: number; batch: BatchTimes; raw: number[] }> {
  const topic = billing.usageTopic;
  console.error(`[bench] billing usage: producing ${options.events} usage events to ${topic}`);
  const messages: Message[] = [];
  for (let i = 0; i < options.events; i++) {
    messages.push((await billing.usageMessage(tenants[i % tenants.length]!)).message);
  }
  await billing.produce(topic, messages, 1000);

  const group = (what: string): string => `${billing.domain}-${what}`;
  await rawConsume(billing.kafka, topic, group('raw-warmup'), options.events, options.timeoutMs);
  const rawBefore = await rawConsume(
    billing.kafka,
    topic,
    group('raw-a'),
    options.events,
    options.timeoutMs,
  );
  console.error(`[bench] billing usage: raw kafkajs (before): ${fmtRate(rawBefore)} events/s`);

  await warmUp(billing, warmTenants, Math.min(options.events, 5_000), options.timeoutMs);
  const run = observedUsage(billing, topic);
  let counted = 0;
  const all = run.when(() => ++counted >= options.events);
  await billing.start(run.usage);
  const started = now();
  await withTimeout(all, options.timeoutMs, 'billing usage consumer');
  const elapsed = seconds(started);
  await billing.stop(run.usage);
  const firstAt = run.handled[0]?.at ?? started;
  console.error(
    `[bench] billing usage: first event applied ${(Number(firstAt - started) / 1e6).toFixed(0)} ms ` +
      `after start() returned; the rest at ` +
      `${fmtRate(rate(options.events - 1, Number(run.handled.at(-1)!.at - firstAt) / 1e9))} events/s`,
  );
  const other = run.handled.filter((h) => h.outcome !== 'processed');
  if (other.length > 0) throw new Error(`billing usage: ${other.length} events not processed`);
  let ledger = 0;
  for (const tenant of tenants) ledger += (await billing.usageOf(tenant)).ledger;
  if (ledger !== options.events) {
    throw new Error(`billing usage: ${ledger} ledger rows for ${options.events} events`);
  }
  const eventsPerSecond = rate(options.events, elapsed);
  console.error(`[bench] billing usage: billing consumer: ${fmtRate(eventsPerSecond)} events/s`);

  const rawAfter = await rawConsume(
    billing.kafka,
    topic,
    group('raw-b'),
    options.events,
    options.timeoutMs,
  );
  console.error(`[bench] billing usage: raw kafkajs (after): ${fmtRate(rawAfter)} events/s`);
  return { eventsPerSecond, batch: batchTimes(run.batches), raw: [rawBefore, rawAfter] };
}

type Placement = 'same' | 'different' | 'natural';

const PLACEMENTS: Record<Placement, { name: string; how: string }> = {
  same: {
    name: 'same partition',
    how: "A's and B's keys chosen to land on one partition",
  },
  different: {
    name: 'different partitions',
    how: "A's keys chosen to avoid B's partition",
  },
  natural: {
    name: 'natural keys',
    how: '<tenant>:<request id> as the gateway keys them',
  },
};

/** When B's probes are sent: right after A's flood is produced, then at these shares of it applied. */
const PROBES_AT = [0, 0.25, 0.5, 0.75];

interface Probe {
  readonly delayMs: number;
  /** A's events not yet applied when this probe was committed. */
  readonly aPending: number;
}

async function floodCase(
  billing: PrivateTopicBilling,
  placement: Placement,
  a: string,
  b: string,
  options: BillingBenchOptions,
): Promise<FloodCase> {
  const topic = await billing.provisionUsageTopic(`flood-${placement}`);
  const first = await billing.usageMessage(b);
  const bPartition = first.partition;
  const probes = [first];
  for (let i = 1; i < PROBES_AT.length; i++) {
    probes.push(
      await billing.usageMessage(b, placement === 'natural' ? {} : { partition: bPartition }),
    );
  }
  const where =
    placement === 'same'
      ? { partition: bPartition }
      : placement === 'different'
        ? { avoid: bPartition }
        : {};
  const flood: Message[] = [];
  let aOnBPartition = 0;
  for (let i = 0; i < options.flood; i++) {
    const event = await billing.usageMessage(a, where);
    if (event.partition === bPartition) aOnBPartition += 1;
    flood.push(event.message);
  }

  const run = observedUsage(billing, topic);
  let aApplied = 0;
  const aDone = run.when((h) => h.metadata?.tenantid === a && ++aApplied >= options.flood);
  // Waiters registered before anything is consumed, so each counts from the first event.
  const reached = PROBES_AT.map((share) => {
    let seen = 0;
    const n = Math.max(1, Math.floor(share * options.flood));
    return run.when((h) => h.metadata?.tenantid === a && ++seen >= n);
  });
  const committed = probes.map((probe) => run.when((h) => h.metadata?.id === probe.metadata.id));
  const producer = billing.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await billing.start(run.usage);
  try {
    console.error(
      `[bench] billing usage: ${PLACEMENTS[placement].name}: A floods ${options.flood} ` +
        `(${aOnBPartition} on B's partition ${bPartition}); B sends one right after, then at ` +
        `${PROBES_AT.slice(1)
          .map((q) => `${q * 100} %`)
          .join(', ')} of A applied`,
    );
    const jsMemory = (): number => {
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    const memoryBefore = jsMemory();
    let memoryPeak = memoryBefore;
    const memorySampler = setInterval(() => {
      memoryPeak = Math.max(memoryPeak, jsMemory());
    }, 50);
    const aStarted = now();
    await billing.produce(topic, flood, 1000);
    const measured = await Promise.all(
      probes.map(async (probe, i): Promise<Probe> => {
        if (i > 0) await reached[i];
        const sent = now();
        await producer.send({ topic, acks: -1, messages: [probe.message] });
        await withTimeout(committed[i]!, options.timeoutMs, `B's event ${i} (${placement})`);
        const delayMs = Number(now() - sent) / 1e6;
        const at = run.handled.findIndex((h) => h.metadata?.id === probe.metadata.id);
        const aBefore = run.handled.slice(0, at).filter((h) => h.metadata?.tenantid === a).length;
        return { delayMs, aPending: options.flood - aBefore };
      }),
    );
    await withTimeout(aDone, options.timeoutMs, `A's flood (${placement})`).finally(() =>
      clearInterval(memorySampler),
    );
    const aDrainSeconds = seconds(aStarted);
    const other = run.handled.filter((h) => h.outcome !== 'processed');
    if (other.length > 0) throw new Error(`${placement}: ${other.length} events not processed`);
    const [usageA, usageB] = [await billing.usageOf(a), await billing.usageOf(b)];
    if (usageA.ledger !== options.flood || usageA.aggregated !== options.flood) {
      throw new Error(`${placement}: A has ${JSON.stringify(usageA)} for ${options.flood} events`);
    }
    if (usageB.ledger !== probes.length || usageB.aggregated !== probes.length) {
      throw new Error(`${placement}: B has ${JSON.stringify(usageB)} for ${probes.length} events`);
    }
    const delays = measured.map((m) => m.delayMs);
    console.error(
      `[bench] billing usage: ${PLACEMENTS[placement].name}: B waited ` +
        measured
          .map((m) => `${m.delayMs.toFixed(0)} ms (${m.aPending} of A's pending)`)
          .join(', ') +
        `; A drained in ${aDrainSeconds.toFixed(1)} s`,
    );
    return {
      ...PLACEMENTS[placement],
      flood: options.flood,
      aOnBPartition,
      bDelayMs: measured[0]!.delayMs,
      bDelayMaxMs: Math.max(...delays),
      bDelayMedianMs: quantile(delays, 0.5),
      aPendingAtB: measured[0]!.aPending,
      aDrainSeconds,
      memoryGrowthMiB: (memoryPeak - memoryBefore) / (1024 * 1024),
      batches: batchTimes(run.batches),
      ratio: 0,
    };
  } finally {
    await billing.stop(run.usage);
    await producer.disconnect();
  }
}

export async function runBillingUsageBench(
  stack: BenchStack,
  options: BillingBenchOptions = billingOptionsFromEnv(),
): Promise<BillingBenchResult> {
  const billing = new PrivateTopicBilling({
    kafkaBrokers: stack.kafkaBrokers,
    schemaRegistryUrl: stack.schemaRegistryUrl,
    databaseAdminUrl: stack.databaseAdminUrl,
    domain: `${benchDomain()}-billing`,
    logger: benchLogger,
  });
  try {
    await billing.setUp();
    const tenants = Array.from({ length: options.tenants }, () => randomUUID());
    const warmTenants = Array.from({ length: options.tenants }, () => randomUUID());
    const placements: Placement[] = ['same', 'different', 'natural'];
    const pairs = placements.map(() => [randomUUID(), randomUUID()] as const);
    console.error(
      `[bench] billing usage: ${2 * tenants.length + 2 * pairs.length} tenants through ` +
        `identity.tenant.created (database ${billing.db.name})`,
    );
    await billing.createTenants([...tenants, ...warmTenants, ...pairs.flat()]);

    const ingested = await ingestion(billing, tenants, warmTenants, options);
    const baseline = (ingested.raw[0]! + ingested.raw[1]!) / 2;
    const cases: FloodCase[] = [];
    for (const [i, placement] of placements.entries()) {
      const [a, b] = pairs[i]!;
      cases.push(await floodCase(billing, placement, a, b, options));
    }
    for (const c of cases) c.ratio = c.bDelayMaxMs / Math.max(1, ingested.batch.medianMs);
    return {
      events: options.events,
      tenants: options.tenants,
      partitions: billing.usagePartitions,
      billingEventsPerSecond: ingested.eventsPerSecond,
      baselineRuns: ingested.raw,
      baselineEventsPerSecond: baseline,
      ratio: ingested.eventsPerSecond / baseline,
      batch: ingested.batch,
      cases,
    };
  } finally {
    await billing.tearDown();
  }
}

export function billingTable(result: BillingBenchResult): string {
  const { batch } = result;
  const ingestion = table(
    [
      `billing usage (${result.events} events, ${result.tenants} tenants, ${result.partitions} partitions)`,
      'events/s',
      'ratio',
      'µs/ev',
    ],
    [
      [
        'raw kafkajs (mean of before/after)',
        fmtRate(result.baselineEventsPerSecond),
        '1.00',
        (1e6 / result.baselineEventsPerSecond).toFixed(0),
      ],
      [
        'billing usage consumer (ledger + aggregate)',
        fmtRate(result.billingEventsPerSecond),
        fmtRatio(result.ratio),
        (1e6 / result.billingEventsPerSecond).toFixed(0),
      ],
    ],
  );
  const batches =
    `fetched batch (per partition, fetch until settled): median ${batch.medianMs} ms, ` +
    `p90 ${batch.p90Ms} ms, max ${batch.maxMs} ms; ${batch.batches} batches, median ` +
    `${batch.medianSize} events`;
  const flood = table(
    [
      'flood: A floods, then B sends one',
      'A events',
      "A on B's part.",
      'B delay ms (first/median/max)',
      'A pending at B',
      'A drain s',
      'memory +MiB',
      'flood batch ms (median/p90, size)',
      'B max / flood batch',
      'B max / batch',
    ],
    result.cases.map((c) => [
      c.name,
      fmtRate(c.flood),
      fmtRate(c.aOnBPartition),
      `${c.bDelayMs.toFixed(0)}/${c.bDelayMedianMs.toFixed(0)}/${c.bDelayMaxMs.toFixed(0)}`,
      fmtRate(c.aPendingAtB),
      c.aDrainSeconds.toFixed(1),
      c.memoryGrowthMiB.toFixed(0),
      `${c.batches.medianMs}/${c.batches.p90Ms} (${c.batches.medianSize})`,
      fmtRatio(c.bDelayMaxMs / Math.max(1, c.batches.medianMs)),
      fmtRatio(c.ratio),
    ]),
  );
  return [ingestion, batches, '', flood].join('\n');
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    const result = await runBillingUsageBench(stack);
    console.log(billingTable(result));
    console.log(
      `\nbilling usage ratio ${fmtRatio(result.ratio)} (billing ${fmtRate(result.billingEventsPerSecond)} / ` +
        `raw ${fmtRate(result.baselineEventsPerSecond)} events/s); batch ${result.batch.medianMs} ms; ` +
        result.cases
          .map((c) => `${c.name}: B max ${c.bDelayMaxMs.toFixed(0)} ms (${fmtRatio(c.ratio)})`)
          .join(', '),
    );
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
