/**
 * Billing's invoice run (issue 8): N tenants with M usage events in their current period, the
 * clock moved past the period end, then billing's real scheduler pass (PeriodCloseScheduler:
 * dueCloses -> enqueuePeriodClose -> a job on `billing.jobs` through the outbox), the real
 * OutboxRelay and billing's real jobs consumer (closePeriod -> issueInvoice), timed from the
 * first tick until every tenant's `billing.invoice.issued` event is on the topic. Reported: wall
 * time, invoices/s, usage events per second of the run and the peak heap growth of this process
 * (heapUsed sampled every 100 ms, max minus the value right before the tick, after a GC): the
 * evidence that the run is bounded by batches, not by loading every ledger row. The same run at
 * 1/10 of the size first, in the same process: time should grow with the tenants, heap should not.
 *
 * Everything runs in a fresh billing database on private topics (PrivateTopicBilling): tenants
 * come in through a private `identity.events`, and the outbox is relayed to private copies of
 * `billing.jobs` and `billing.events`, so 1,000 jobs never reach the platform's `billing.jobs`.
 *
 * The usage is seeded straight into billing's tables, on purpose not through Kafka (ingestion is
 * what billing-usage.bench.ts measures): usage_ledger rows and usage_aggregates shards exactly
 * as billing's usage consumer stores them (UsageRepository.recordMany: one ledger row per call,
 * quantity 1, meter api_calls, the period's start; the calls' sum on the shard of their
 * partition, here spread over the 12 shards), with multi-row INSERT ... SELECT FROM
 * generate_series in tenant transactions (`withTenant` on the service's own non-owner pool, so
 * row-level security applies as it does to billing).
 *
 *   npx tsx bench/billing-invoice-run.bench.ts      (or BENCH_ONLY=invoices npm run bench)
 *   BENCH_INVOICE_TENANTS, BENCH_INVOICE_EVENTS override the (larger) size.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Kafka } from 'kafkajs';
import { InvoiceIssuedEvent, PeriodCloseRequestedJob } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { InboxOutcome } from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark runs billing's own scheduler,
   clock and test harness (nothing else imports them from outside the service): what it measures. */
import { ManualClock } from '../services/billing/src/domain/clock';
import { documentNumber } from '../services/billing/src/domain/invoice-status';
import { PeriodCloseScheduler } from '../services/billing/src/jobs/period-close-scheduler';
import { API_CALLS_METER } from '../services/billing/src/persistence/usage-repository';
import { PrivateTopicBilling } from '../services/billing/test/support/private-topic-billing';
/* eslint-enable @nx/enforce-module-boundaries */
import {
  benchDomain,
  benchLogger,
  deferred,
  fmtRate,
  fmtRatio,
  intFromEnv,
  now,
  pool,
  rate,
  runWhenMain,
  seconds,
  sizeFromEnv,
  table,
  withTimeout,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface InvoiceRunOptions {
  /** Tenants and usage events of the larger run; the first run is 1/10 of both. */
  readonly tenants: number;
  readonly events: number;
  readonly timeoutMs: number;
}

export interface InvoiceRunCase {
  readonly tenants: number;
  readonly events: number;
  /** Seeding the ledger and aggregates (not part of the run). */
  readonly seedSeconds: number;
  /** Scheduler passes until one found nothing due (a pass pages through every due tenant). */
  readonly passes: number;
  /** From the first tick until the last pass returned. */
  readonly enqueueSeconds: number;
  /** Each pass's duration (s) and how many closes it enqueued. */
  readonly passTimes: readonly { readonly seconds: number; readonly enqueued: number }[];
  /** From the first tick until the last job's transaction committed (jobs consumer). */
  readonly committedSeconds: number;
  /** From the first tick until every tenant's billing.invoice.issued event was on the topic. */
  readonly wallSeconds: number;
  readonly invoicesPerSecond: number;
  readonly eventsPerSecond: number;
  /** heapUsed right before the tick (after a GC), MiB. */
  readonly heapBeforeMiB: number;
  /** Max heapUsed during the run minus heapBeforeMiB, MiB. */
  readonly heapGrowthMiB: number;
  /** heapUsed after the run and another GC, minus heapBeforeMiB: what the run kept, MiB. */
  readonly heapRetainedMiB: number;
  readonly rssGrowthMiB: number;
  readonly heapSamples: number;
  /** Largest and smallest usage a tenant had (the seeding is skewed: every 10th tenant 5×). */
  readonly maxTenantEvents: number;
  readonly minTenantEvents: number;
}

export interface InvoiceRunResult {
  readonly options: InvoiceRunOptions;
  /** Not compared: warms the JIT and the pools, so the first measured run is not the cold one. */
  readonly warmUp: InvoiceRunCase;
  readonly small: InvoiceRunCase;
  readonly large: InvoiceRunCase;
  /** large ÷ small. */
  readonly tenantRatio: number;
  readonly timeRatio: number;
  readonly heapRatio: number;
}

export function invoiceRunOptionsFromEnv(): InvoiceRunOptions {
  const tenants = sizeFromEnv('BENCH_INVOICE_TENANTS', 100, 1_000);
  const events = sizeFromEnv('BENCH_INVOICE_EVENTS', 100_000, 1_000_000);
  if (tenants < 10) throw new Error('BENCH_INVOICE_TENANTS must be at least 10 (a 1/10 run first)');
  return { tenants, events, timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 600_000) };
}

/** Aggregate shards the seeded usage is spread over: the partitions of `gateway.usage`. */
const SHARDS = 12;
/** Ledger rows per INSERT statement when seeding. */
const SEED_CHUNK = 10_000;
const MiB = 1024 * 1024;

/** Every 10th tenant 5× the others' usage, summing to exactly `events`. */
function usagePerTenant(tenants: number, events: number): number[] {
  const weights = Array.from({ length: tenants }, (_, i) => (i % 10 === 0 ? 5 : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((events * w) / total));
  let left = events - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % tenants, left--) counts[i]! += 1;
  return counts;
}

/** A full GC when V8 lets us have one (no --expose-gc needed), so the baseline is settled. */
function collectGarbage(): boolean {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return false;
    gc();
    return true;
  } catch {
    return false;
  }
}

/**
 * One tenant's calls as the usage consumer stores them: ledger rows (quantity 1, meter
 * api_calls, the period's start, spread over the period so far) and, per shard, their count
 * added to the period's aggregate row (the same upsert as UsageRepository.recordMany).
 */
async function seedTenant(
  billing: PrivateTopicBilling,
  tenantId: string,
  count: number,
  periodStart: Date,
  until: Date,
): Promise<void> {
  const stepSeconds = (until.getTime() - periodStart.getTime()) / 1000 / Math.max(1, count);
  for (let first = 1; first <= count; first += SEED_CHUNK) {
    const last = Math.min(count, first + SEED_CHUNK - 1);
    await withTenant(billing.dataSource, tenantId, async (tx) => {
      await tx.manager.query(
        `INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
         SELECT $1, gen_random_uuid()::text, $2, 1,
                $3::timestamptz + make_interval(secs => (g - 1) * $4::float8), $3::timestamptz
         FROM generate_series($5::int, $6::int) AS g`,
        [tenantId, API_CALLS_METER, periodStart, stepSeconds, first, last],
      );
      await tx.manager.query(
        `INSERT INTO usage_aggregates (tenant_id, period_start, meter, shard, quantity)
         SELECT $1, $3::timestamptz, $2, g % $4::int, count(*)
         FROM generate_series($5::int, $6::int) AS g GROUP BY g % $4::int
         ON CONFLICT (tenant_id, period_start, meter, shard)
           DO UPDATE SET quantity = usage_aggregates.quantity + EXCLUDED.quantity`,
        [tenantId, API_CALLS_METER, periodStart, SHARDS, first, last],
      );
    });
  }
}

/** A raw consumer of the private `billing.events` that resolves once every tenant's invoice.issued arrived. */
async function issuedWatcher(
  kafka: Kafka,
  topic: string,
  groupId: string,
  tenants: ReadonlySet<string>,
): Promise<{ all: Promise<void>; issued: Map<string, number>; stop: () => Promise<void> }> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const issued = new Map<string, number>();
  const all = deferred();
  const joined = deferred();
  consumer.on(consumer.events.GROUP_JOIN, () => joined.resolve());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const type = message.headers?.ce_type?.toString();
      const tenant = message.headers?.ce_tenantid?.toString();
      if (type !== InvoiceIssuedEvent.type || !tenant || !tenants.has(tenant)) return;
      issued.set(tenant, (issued.get(tenant) ?? 0) + 1);
      if (issued.size === tenants.size) all.resolve();
    },
  });
  await joined.promise;
  return { all: all.promise, issued, stop: () => consumer.disconnect() };
}

interface Issued {
  sequence: number;
  number: string;
  billed: string;
  overage: string;
  lines: number;
}

/** One issued invoice per tenant, numbered from 1 without gaps, carrying exactly its seeded usage. */
async function verify(
  billing: PrivateTopicBilling,
  tenants: readonly string[],
  usage: readonly number[],
  issuedEvents: ReadonlyMap<string, number>,
): Promise<void> {
  const [plan] = (await billing.dataSource.query(
    `SELECT included_api_calls::text AS included FROM plans WHERE code = 'free' AND version = 1`,
  )) as { included: string }[];
  const included = BigInt(plan?.included ?? '0');
  const problems: string[] = [];
  await pool(
    tenants.map((t, i) => i),
    4,
    async (i) => {
      const tenant = tenants[i]!;
      const seeded = BigInt(usage[i]!);
      const rows = await billing.query<Issued>(
        tenant,
        `SELECT i.sequence, i.number,
           (SELECT coalesce(sum(quantity), 0)::text FROM usage_ledger l WHERE l.invoice_id = i.id) AS billed,
           (SELECT coalesce(sum(quantity), 0)::text FROM invoice_lines il
             WHERE il.invoice_id = i.id AND il.kind = 'usage-overage') AS overage,
           (SELECT count(*)::int FROM invoice_lines il WHERE il.invoice_id = i.id) AS lines
         FROM invoices i WHERE i.status <> 'draft' ORDER BY i.sequence`,
      );
      const [left] = await billing.query<{ unbilled: number; drafts: number }>(
        tenant,
        `SELECT (SELECT count(*)::int FROM usage_ledger WHERE invoice_id IS NULL) AS unbilled,
                (SELECT count(*)::int FROM invoices WHERE status = 'draft') AS drafts`,
      );
      const fail = (what: string) => problems.push(`${tenant}: ${what}`);
      if (rows.length !== 1) return void fail(`${rows.length} issued invoices`);
      rows.forEach((r, k) => {
        if (r.sequence !== k + 1) fail(`invoice ${k + 1} has sequence ${r.sequence} (a gap)`);
        if (r.number !== documentNumber('invoice', k + 1)) fail(`invoice number ${r.number}`);
      });
      const invoice = rows[0]!;
      if (BigInt(invoice.billed) !== seeded) fail(`billed ${invoice.billed} of ${seeded} calls`);
      const over = seeded > included ? seeded - included : 0n;
      if (BigInt(invoice.overage) !== over)
        fail(`overage line ${invoice.overage}, expected ${over}`);
      if (left?.unbilled !== 0) fail(`${left?.unbilled} ledger rows left unbilled`);
      if (left?.drafts !== 0) fail(`${left?.drafts} drafts left`);
      if (issuedEvents.get(tenant) !== 1)
        fail(`${issuedEvents.get(tenant) ?? 0} invoice.issued events`);
    },
  );
  if (problems.length > 0) {
    throw new Error(
      `invoice run: ${problems.length} problems, e.g.\n  ${problems.slice(0, 10).join('\n  ')}`,
    );
  }
}

async function invoiceRun(
  stack: BenchStack,
  tenantCount: number,
  eventCount: number,
  timeoutMs: number,
): Promise<InvoiceRunCase> {
  const clock = new ManualClock(new Date());
  const billing = new PrivateTopicBilling({
    kafkaBrokers: stack.kafkaBrokers,
    schemaRegistryUrl: stack.schemaRegistryUrl,
    databaseAdminUrl: stack.databaseAdminUrl,
    domain: `${benchDomain()}-invoices`,
    logger: benchLogger,
    clock,
  });
  const label = `[bench] invoice run (${tenantCount} tenants, ${fmtRate(eventCount)} events)`;
  try {
    await billing.setUp();
    const tenants = Array.from({ length: tenantCount }, () => randomUUID());
    console.error(`${label}: tenants through identity.tenant.created (${billing.db.name})`);
    await billing.createTenants(tenants);
    const [period] = await billing.query<{ start: Date; end: Date }>(
      tenants[0]!,
      `SELECT current_period_start AS start, current_period_end AS "end" FROM subscriptions`,
    );
    if (!period) throw new Error('no subscription after createTenants');

    const usage = usagePerTenant(tenantCount, eventCount);
    const seedStarted = now();
    await pool(
      tenants.map((_, i) => i),
      4,
      (i) => seedTenant(billing, tenants[i]!, usage[i]!, period.start, clock.now()),
    );
    const seedSeconds = seconds(seedStarted);
    console.error(`${label}: seeded in ${seedSeconds.toFixed(1)} s (straight into the tables)`);

    // The relay first, so the subscription events of the tenants' creation are out before the tick.
    const relay = await billing.startRelay();
    await withTimeout(
      (async () => {
        while ((await relay.backlog()) > 0) await new Promise((r) => setTimeout(r, 100));
      })(),
      timeoutMs,
      'the outbox backlog before the tick',
    );

    let committed = 0;
    let lastCommit = 0n;
    const other: InboxOutcome[] = [];
    const allCommitted = deferred();
    const { jobs } = billing.consumers({
      outcome: (consumer, outcome, metadata) => {
        if (!consumer.endsWith('.jobs') || metadata?.type !== PeriodCloseRequestedJob.type) return;
        if (outcome !== 'processed') other.push(outcome);
        committed += 1;
        lastCommit = now();
        if (committed >= tenantCount) allCommitted.resolve();
      },
    });
    await billing.start(jobs);
    const watcher = await issuedWatcher(
      billing.kafka,
      billing.billingEventsTopic,
      `${billing.domain}-issued`,
      new Set(tenants),
    );
    const scheduler = new PeriodCloseScheduler({
      dataSource: billing.dataSource,
      deps: billing.deps,
      logger: createLogger('billing-bench-scheduler', { level: 'silent' }),
      intervalMs: 30_000,
    });

    try {
      clock.set(new Date(period.end.getTime() + 5_000));
      const gc = collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      const rssBefore = process.memoryUsage().rss;
      let heapMax = heapBefore;
      let rssMax = rssBefore;
      let samples = 0;
      const sample = () => {
        const m = process.memoryUsage();
        heapMax = Math.max(heapMax, m.heapUsed);
        rssMax = Math.max(rssMax, m.rss);
        samples += 1;
      };
      const sampler = setInterval(sample, 100);
      const started = now();
      let passes = 0;
      let enqueued = 0;
      const passTimes: { seconds: number; enqueued: number }[] = [];
      try {
        // The service's scheduler runs one pass per interval (30 s); here they run back to back
        // until a pass finds nothing due (a pass pages through every due tenant, so two here).
        for (;;) {
          const passStarted = now();
          const tick = await scheduler.tick();
          passTimes.push({ seconds: seconds(passStarted), enqueued: tick.enqueued });
          passes += 1;
          if (!tick.leader) throw new Error('the scheduler did not get its lock');
          if (tick.enqueued === 0) break;
          enqueued += tick.enqueued;
        }
        const enqueueSeconds = seconds(started);
        if (enqueued !== tenantCount) {
          throw new Error(`the scheduler enqueued ${enqueued} closes for ${tenantCount} tenants`);
        }
        await withTimeout(watcher.all, timeoutMs, `${tenantCount} invoice.issued events`);
        const wallSeconds = seconds(started);
        await withTimeout(allCommitted.promise, timeoutMs, `${tenantCount} period-close jobs`);
        sample();
        clearInterval(sampler);
        if (other.length > 0)
          throw new Error(`period-close jobs not processed: ${other.join(', ')}`);
        const committedSeconds = Number(lastCommit - started) / 1e9;
        collectGarbage();
        const heapRetained = process.memoryUsage().heapUsed - heapBefore;
        console.error(
          `${label}: ${passes} scheduler passes (${enqueueSeconds.toFixed(2)} s), last job ` +
            `committed at ${committedSeconds.toFixed(2)} s, every invoice.issued at ` +
            `${wallSeconds.toFixed(2)} s; heap +${((heapMax - heapBefore) / MiB).toFixed(1)} MiB` +
            `${gc ? '' : ' (no GC before the baseline)'}`,
        );
        // Let the consumers finish (a late duplicate would show in the check).
        await new Promise((r) => setTimeout(r, 1000));
        await verify(billing, tenants, usage, watcher.issued);
        return {
          tenants: tenantCount,
          events: eventCount,
          seedSeconds,
          passes,
          enqueueSeconds,
          passTimes,
          committedSeconds,
          wallSeconds,
          invoicesPerSecond: rate(tenantCount, wallSeconds),
          eventsPerSecond: rate(eventCount, wallSeconds),
          heapBeforeMiB: heapBefore / MiB,
          heapGrowthMiB: (heapMax - heapBefore) / MiB,
          heapRetainedMiB: heapRetained / MiB,
          rssGrowthMiB: (rssMax - rssBefore) / MiB,
          heapSamples: samples,
          maxTenantEvents: Math.max(...usage),
          minTenantEvents: Math.min(...usage),
        };
      } finally {
        clearInterval(sampler);
      }
    } finally {
      await scheduler.stop();
      await watcher.stop();
    }
  } finally {
    await billing.tearDown();
  }
}

export async function runInvoiceRunBench(
  stack: BenchStack,
  options: InvoiceRunOptions = invoiceRunOptionsFromEnv(),
): Promise<InvoiceRunResult> {
  const warmUp = await invoiceRun(
    stack,
    Math.max(10, Math.floor(options.tenants / 100)),
    Math.max(1000, Math.floor(options.events / 100)),
    options.timeoutMs,
  );
  const small = await invoiceRun(
    stack,
    Math.floor(options.tenants / 10),
    Math.floor(options.events / 10),
    options.timeoutMs,
  );
  const large = await invoiceRun(stack, options.tenants, options.events, options.timeoutMs);
  return {
    options,
    warmUp,
    small,
    large,
    tenantRatio: large.tenants / small.tenants,
    timeRatio: large.wallSeconds / small.wallSeconds,
    // Growth under 1 MiB is noise; the ratio says whether heap follows the size.
    heapRatio: Math.max(1, large.heapGrowthMiB) / Math.max(1, small.heapGrowthMiB),
  };
}

export function invoiceRunTable(result: InvoiceRunResult): string {
  const row = (c: InvoiceRunCase, note = ''): string[] => [
    `${fmtRate(c.tenants)} tenants, ${fmtRate(c.events)} events${note}`,
    c.seedSeconds.toFixed(1),
    `${c.passes} (${c.passTimes.map((p) => p.enqueued).join('+')})`,
    c.enqueueSeconds.toFixed(2),
    c.committedSeconds.toFixed(2),
    c.wallSeconds.toFixed(2),
    fmtRate(c.invoicesPerSecond),
    fmtRate(c.eventsPerSecond),
    `${c.heapBeforeMiB.toFixed(0)} +${c.heapGrowthMiB.toFixed(1)} (${c.heapRetainedMiB >= 0 ? '+' : ''}${c.heapRetainedMiB.toFixed(1)})`,
    `+${c.rssGrowthMiB.toFixed(1)}`,
  ];
  const { small, large } = result;
  return [
    table(
      [
        'billing invoice run',
        'seed s',
        'passes',
        'enqueued s',
        'committed s',
        'issued s',
        'invoices/s',
        'usage ev/s',
        'heap MiB: before +peak (kept)',
        'rss MiB',
      ],
      [row(result.warmUp, ' (warm-up)'), row(small), row(large)],
    ),
    `large / small: ${fmtRatio(result.tenantRatio)}× tenants and events, ` +
      `${fmtRatio(result.timeRatio)}× time, ${fmtRatio(result.heapRatio)}× heap growth ` +
      `(${small.heapGrowthMiB.toFixed(1)} -> ${large.heapGrowthMiB.toFixed(1)} MiB); usage per ` +
      `tenant ${fmtRate(large.minTenantEvents)}-${fmtRate(large.maxTenantEvents)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    console.log(invoiceRunTable(await runInvoiceRunBench(stack)));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
