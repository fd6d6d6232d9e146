/**
 * Reporting: (1) events/s that reporting's usage read model applies (its real batch handler,
 * `usageEventsHandler`, in an InboxConsumer configured as reporting's usage group: hourly and
 * daily buckets, active users, the operator's daily figures, freshness, in a fresh reporting
 * database), divided by a raw kafkajs consumer of the same events in the same run (mean of one
 * run before and one after); (2) p50/p99 of a 90-day usage report (day buckets, every route
 * group, active users: the route's three reads and its aggregation, in a tenant transaction)
 * for a tenant with 1,000,000 usage events, seeded straight into the hourly and daily buckets
 * and active users as the read model stores them.
 *
 * The consumer reads a private copy of `gateway.usage` (same event type, schema, key and
 * partition count): a flood on the shared topic would be read by every reporting and billing
 * test and service started in the next day.
 *
 *   npx tsx bench/reporting.bench.ts        (BENCH_FULL=1: more events and report runs)
 *   BENCH_REPORTING_EVENTS, BENCH_REPORTING_TENANTS, BENCH_REPORTING_REPORT_EVENTS,
 *   BENCH_REPORTING_REPORT_RUNS override the sizes.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { ApiCallCompleted } from '@tenantry/contracts';
import { ApiCallCompletedEvent } from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventMetadata, InboxOutcome } from '@tenantry/events';
import {
  EventCodec,
  InboxConsumer,
  createKafkaClient,
  metadataToHeaders,
  provisionTopics,
} from '@tenantry/events';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase } from '@tenantry/testing';
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark runs reporting's own handler,
   repositories and report (imported from the service, nothing else does): what it measures. */
import { LATENCY_BUCKET_COUNT } from '../services/reporting/src/domain/latency-histogram';
import { reportRange } from '../services/reporting/src/domain/report-range';
import { usageReport } from '../services/reporting/src/domain/usage-report';
import type { ReadModelDeps } from '../services/reporting/src/messaging/read-model-deps';
import { usageEventsHandler } from '../services/reporting/src/messaging/usage-events.handler';
import { ActivityRepository } from '../services/reporting/src/persistence/activity-repository';
import { BillingRepository } from '../services/reporting/src/persistence/billing-repository';
import { ErasedUserRepository } from '../services/reporting/src/persistence/erased-user-repository';
import { FreshnessRepository } from '../services/reporting/src/persistence/freshness-repository';
import { MemberRepository } from '../services/reporting/src/persistence/member-repository';
import { REPORTING_MIGRATIONS } from '../services/reporting/src/persistence/migrations/reporting-migrations';
import { PlatformRepository } from '../services/reporting/src/persistence/platform-repository';
import { TenantRepository } from '../services/reporting/src/persistence/tenant-repository';
import { UsageRepository } from '../services/reporting/src/persistence/usage-repository';
/* eslint-enable @nx/enforce-module-boundaries */
import {
  Cleanup,
  benchDomain,
  benchLogger,
  deferred,
  deleteTopics,
  fmtRate,
  fmtRatio,
  now,
  rate,
  runWhenMain,
  seconds,
  sizeFromEnv,
  table,
  withTimeout,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface ReportingBenchOptions {
  /** Usage events the read model applies, spread over `tenants`. */
  readonly events: number;
  readonly tenants: number;
  /** Usage events behind the 90-day report's tenant. */
  readonly reportEvents: number;
  /** Timed report runs (after a few warm-up runs). */
  readonly reportRuns: number;
  readonly timeoutMs: number;
}

export interface ReportingBenchResult {
  readonly events: number;
  readonly tenants: number;
  readonly partitions: number;
  readonly readModelEventsPerSecond: number;
  readonly baselineRuns: number[];
  readonly baselineEventsPerSecond: number;
  /** Read model / raw kafkajs. */
  readonly ratio: number;
  readonly reportEvents: number;
  readonly reportRuns: number;
  /** Rows the 90-day report reads (daily buckets of the tenant). */
  readonly reportRows: number;
  readonly reportP50Ms: number;
  readonly reportP99Ms: number;
  readonly reportMaxMs: number;
}

export function reportingOptionsFromEnv(): ReportingBenchOptions {
  return {
    events: sizeFromEnv('BENCH_REPORTING_EVENTS', 20_000, 100_000),
    tenants: sizeFromEnv('BENCH_REPORTING_TENANTS', 20, 50),
    reportEvents: sizeFromEnv('BENCH_REPORTING_REPORT_EVENTS', 1_000_000, 1_000_000),
    reportRuns: sizeFromEnv('BENCH_REPORTING_REPORT_RUNS', 200, 1000),
    timeoutMs: sizeFromEnv('BENCH_REPORTING_TIMEOUT_MS', 300_000, 900_000),
  };
}

/** As the platform declares `gateway.usage`. */
const USAGE_PARTITIONS = 12;
const ROUTES = [
  { route: '/v1/members', service: 'identity' },
  { route: '/v1/billing/invoices/:invoiceId', service: 'billing' },
  { route: '/v1/reports/usage', service: 'reporting' },
  { route: '/v1/roles', service: 'authorization' },
  { route: '/v1/api-keys', service: 'identity' },
];
const STATUSES = [200, 200, 200, 201, 204, 400, 404, 500];

function readModelDeps(): ReadModelDeps {
  return {
    tenants: new TenantRepository(),
    freshness: new FreshnessRepository(),
    usage: new UsageRepository(),
    members: new MemberRepository(),
    billing: new BillingRepository(),
    activity: new ActivityRepository(),
    platform: new PlatformRepository(),
    erasedUsers: new ErasedUserRepository(),
  };
}

async function usageMessage(codec: EventCodec, tenantId: string, i: number): Promise<Message> {
  const requestId = `req-${randomUUID()}`;
  const { route, service } = ROUTES[i % ROUTES.length]!;
  const actorId = `u-${i % 97}`;
  const data: ApiCallCompleted = {
    tenantId,
    actorType: 'user',
    actorId,
    method: 'GET',
    route,
    service,
    status: STATUSES[i % STATUSES.length]!,
    latencyMs: 1 + (i % 400) / 4,
    requestId,
    completedAt: new Date(Date.now() - (i % 86_400) * 1000).toISOString(),
  };
  const metadata: EventMetadata = {
    id: randomUUID(),
    source: '/services/gateway',
    type: ApiCallCompletedEvent.type,
    specversion: '1.0',
    time: new Date().toISOString(),
    subject: requestId,
    tenantid: tenantId,
    actortype: 'user',
    actorid: actorId,
    correlationid: requestId,
  };
  return {
    // The gateway's key: one tenant's calls spread over every partition.
    key: `${tenantId}:${requestId}`,
    value: await codec.encode(ApiCallCompletedEvent, data),
    headers: metadataToHeaders(metadata),
  };
}

async function produce(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
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

/** Reporting's usage consumer (as reporting-consumers.ts configures it) on the private topic. */
async function readModelConsume(
  kafka: Kafka,
  codec: EventCodec,
  dataSource: DataSource,
  deps: ReadModelDeps,
  topic: string,
  groupId: string,
  events: number,
  timeoutMs: number,
): Promise<number> {
  let handled = 0;
  const failures: InboxOutcome[] = [];
  const all = deferred();
  const consumer = new InboxConsumer({
    name: groupId,
    kafka,
    dataSource,
    codec,
    logger: benchLogger,
    partitionsConsumedConcurrently: 6,
    onOutcome: (outcome) => {
      if (outcome !== 'processed') failures.push(outcome);
      handled += 1;
      if (handled >= events) all.resolve();
    },
  }).onBatch({ ...ApiCallCompletedEvent, topic }, usageEventsHandler(deps));
  await consumer.start();
  try {
    const started = now();
    await withTimeout(all.promise, timeoutMs, 'reporting usage consumer');
    const elapsed = seconds(started);
    if (failures.length > 0) throw new Error(`reporting: ${failures.length} events not processed`);
    return rate(events, elapsed);
  } finally {
    await consumer.stop();
  }
}

/**
 * A tenant's 90 days of usage as the read model stores it: hourly and daily buckets per route
 * group and status class (5 x 3), their calls adding up to `events`, a latency histogram per
 * bucket, and 50 active users a day.
 */
async function seedUsage(dataSource: DataSource, tenantId: string, events: number, days: number) {
  const start = Date.UTC(2026, 0, 1);
  await withTenant(dataSource, tenantId, async (tx) => {
    await tx.manager.query(
      `WITH cells AS (
         SELECT h, g, c, row_number() OVER (ORDER BY h, g, c) - 1 AS i, count(*) OVER () AS n
           FROM generate_series(0, $3::int * 24 - 1) AS h,
                unnest(ARRAY['members', 'billing', 'reports', 'roles', 'api-keys']) AS g,
                unnest(ARRAY['2xx', '4xx', '5xx']) AS c
       ), counted AS (
         SELECT h, g, c, (floor((i + 1) * $2::numeric / n) - floor(i * $2::numeric / n))::bigint
                AS calls
           FROM cells
       )
       INSERT INTO usage_hourly (tenant_id, bucket_start, route_group, status_class, calls,
                                 server_errors, latency_sum_us, latency_max_ms, latency_histogram)
       SELECT $1, to_timestamp($4::double precision / 1000) + h * interval '1 hour', g, c, calls,
              CASE WHEN c = '5xx' THEN calls ELSE 0 END, calls * (5000 + (h % 40) * 1000),
              60 + h % 40,
              ARRAY(SELECT CASE WHEN k = 10 + h % 30 THEN calls ELSE 0 END
                      FROM generate_series(1, $5::int) AS k)
         FROM counted`,
      [tenantId, events, days, start, LATENCY_BUCKET_COUNT],
    );
    // The day rollup of the same buckets, histograms added element by element.
    await tx.manager.query(
      `WITH hourly AS (
         SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, *
           FROM usage_hourly
       ), elements AS (
         SELECT day, route_group, status_class, k, sum(v)::bigint AS v
           FROM hourly, unnest(latency_histogram) WITH ORDINALITY AS e(v, k)
          GROUP BY 1, 2, 3, 4
       ), histograms AS (
         SELECT day, route_group, status_class, array_agg(v ORDER BY k) AS histogram
           FROM elements GROUP BY 1, 2, 3
       ), sums AS (
         SELECT day, route_group, status_class, sum(calls) AS calls,
                sum(server_errors) AS server_errors, sum(latency_sum_us) AS latency_sum_us,
                max(latency_max_ms) AS latency_max_ms
           FROM hourly GROUP BY 1, 2, 3
       )
       INSERT INTO usage_daily (tenant_id, bucket_start, route_group, status_class, calls,
                                server_errors, latency_sum_us, latency_max_ms, latency_histogram)
       SELECT $1, s.day, s.route_group, s.status_class, s.calls, s.server_errors,
              s.latency_sum_us, s.latency_max_ms, h.histogram
         FROM sums s JOIN histograms h USING (day, route_group, status_class)`,
      [tenantId],
    );
    await tx.manager.query(
      `INSERT INTO active_users_daily (tenant_id, day, actor_type, actor_id, calls)
       SELECT $1, to_timestamp($3::double precision / 1000) + d * interval '1 day', 'user',
              'u-' || u, 10
         FROM generate_series(0, $2::int - 1) AS d, generate_series(1, 50) AS u`,
      [tenantId, days, start],
    );
  });
  const [row] = (await withTenant(dataSource, tenantId, (tx) =>
    tx.manager.query(
      `SELECT (SELECT sum(calls) FROM usage_daily)::bigint AS daily,
              (SELECT count(*) FROM usage_daily)::int AS rows`,
    ),
  )) as { daily: string; rows: number }[];
  if (Number(row?.daily) !== events) {
    throw new Error(`reporting: seeded ${row?.daily} calls in day buckets, not ${events}`);
  }
  return { rows: row?.rows ?? 0, from: new Date(start), to: new Date(start + days * 86_400_000) };
}

/** The usage route's work for one request: its three reads, the aggregation and the JSON. */
async function usageReportOnce(
  dataSource: DataSource,
  deps: ReadModelDeps,
  tenantId: string,
  from: Date,
  to: Date,
): Promise<number> {
  const check = reportRange(from, to, 'day');
  if (!check.ok) throw new Error(check.reason);
  const started = now();
  const body = await withTenant(dataSource, tenantId, async (tx) => {
    const freshness = await deps.freshness.of(tx, 'usage');
    const rows = await deps.usage.rows(tx, check.range);
    const actors = await deps.usage.activeActors(tx, check.range);
    return { asOf: freshness.asOf, report: usageReport(check.range, rows), actors };
  });
  const json = JSON.stringify(body);
  if (body.report.totals.calls === 0 || json.length === 0) throw new Error('empty report');
  return seconds(started) * 1000;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;

export async function runReportingBench(
  stack: BenchStack,
  options: ReportingBenchOptions = reportingOptionsFromEnv(),
): Promise<ReportingBenchResult> {
  const domain = `${benchDomain()}-reporting`;
  const topic = `${domain}.gateway.usage`;
  const kafka = createKafkaClient({ clientId: domain, brokers: stack.kafkaBrokers });
  const codec = new EventCodec(stack.schemaRegistryUrl);
  const cleanup = new Cleanup();
  let db: TestDatabase | undefined;
  let dataSource: DataSource | undefined;
  try {
    db = await createTestDatabase(stack.databaseAdminUrl, 'reporting_bench');
    const created = db;
    cleanup.add('database', () => created.drop());
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: REPORTING_MIGRATIONS,
      poolSize: 10,
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
    const opened = dataSource;
    cleanup.add('data source', () => opened.destroy());
    await provisionTopics(kafka, [
      { name: topic, partitions: USAGE_PARTITIONS, deadLetter: false },
    ]);
    cleanup.add('topics', () => deleteTopics(kafka, [topic]));
    await codec.register([ApiCallCompletedEvent]);
    const deps = readModelDeps();

    // (1) Events/s applied to the read model, against raw kafkajs on the same events.
    const tenants = Array.from({ length: options.tenants }, () => randomUUID());
    console.error(`[bench] reporting: producing ${options.events} usage events to ${topic}`);
    const messages: Message[] = [];
    for (let i = 0; i < options.events; i++) {
      messages.push(await usageMessage(codec, tenants[i % tenants.length]!, i));
    }
    await produce(kafka, topic, messages);
    const group = (what: string) => `${domain}-${what}`;
    await rawConsume(kafka, topic, group('raw-warmup'), options.events, options.timeoutMs);
    const rawBefore = await rawConsume(
      kafka,
      topic,
      group('raw-a'),
      options.events,
      options.timeoutMs,
    );
    console.error(`[bench] reporting: raw kafkajs (before): ${fmtRate(rawBefore)} events/s`);
    const applied = await readModelConsume(
      kafka,
      codec,
      dataSource,
      deps,
      topic,
      group('usage'),
      options.events,
      options.timeoutMs,
    );
    console.error(`[bench] reporting: usage read model: ${fmtRate(applied)} events/s`);
    let calls = 0;
    for (const tenant of tenants) {
      const [row] = (await withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`SELECT coalesce(sum(calls), 0)::bigint AS n FROM usage_daily`),
      )) as { n: string }[];
      calls += Number(row?.n ?? 0);
    }
    if (calls !== options.events) {
      throw new Error(`reporting: ${calls} calls in the day buckets for ${options.events} events`);
    }
    const rawAfter = await rawConsume(
      kafka,
      topic,
      group('raw-b'),
      options.events,
      options.timeoutMs,
    );
    console.error(`[bench] reporting: raw kafkajs (after): ${fmtRate(rawAfter)} events/s`);
    const baseline = (rawBefore + rawAfter) / 2;

    // (2) The 90-day usage report of a tenant with 1,000,000 usage events.
    const reportTenant = randomUUID();
    console.error(`[bench] reporting: seeding ${options.reportEvents} usage events (90 days)`);
    const seeded = await seedUsage(dataSource, reportTenant, options.reportEvents, 90);
    for (let i = 0; i < 10; i++) {
      await usageReportOnce(dataSource, deps, reportTenant, seeded.from, seeded.to);
    }
    const times: number[] = [];
    for (let i = 0; i < options.reportRuns; i++) {
      times.push(await usageReportOnce(dataSource, deps, reportTenant, seeded.from, seeded.to));
    }
    times.sort((a, b) => a - b);
    return {
      events: options.events,
      tenants: options.tenants,
      partitions: USAGE_PARTITIONS,
      readModelEventsPerSecond: applied,
      baselineRuns: [rawBefore, rawAfter],
      baselineEventsPerSecond: baseline,
      ratio: applied / baseline,
      reportEvents: options.reportEvents,
      reportRuns: options.reportRuns,
      reportRows: seeded.rows,
      reportP50Ms: percentile(times, 0.5),
      reportP99Ms: percentile(times, 0.99),
      reportMaxMs: times[times.length - 1] ?? 0,
    };
  } finally {
    await cleanup.run();
  }
}

export function reportingTable(result: ReportingBenchResult): string {
  const ingestion = table(
    [
      `reporting usage (${result.events} events, ${result.tenants} tenants, ${result.partitions} partitions)`,
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
        'usage read model (hour + day buckets, active users, platform, asOf)',
        fmtRate(result.readModelEventsPerSecond),
        fmtRatio(result.ratio),
        (1e6 / result.readModelEventsPerSecond).toFixed(0),
      ],
    ],
  );
  const report = table(
    ['90-day usage report (day buckets)', 'usage events', 'rows read', 'runs', 'p50 ms', 'p99 ms'],
    [
      [
        'one tenant, 5 route groups x 3 status classes',
        fmtRate(result.reportEvents),
        fmtRate(result.reportRows),
        String(result.reportRuns),
        result.reportP50Ms.toFixed(1),
        result.reportP99Ms.toFixed(1),
      ],
    ],
  );
  return [ingestion, '', report].join('\n');
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    const result = await runReportingBench(stack);
    console.log(reportingTable(result));
    console.log(
      `\nreporting ratio ${fmtRatio(result.ratio)} (read model ${fmtRate(result.readModelEventsPerSecond)} / ` +
        `raw ${fmtRate(result.baselineEventsPerSecond)} events/s); 90-day report over ` +
        `${fmtRate(result.reportEvents)} events p50 ${result.reportP50Ms.toFixed(1)} ms, ` +
        `p99 ${result.reportP99Ms.toFixed(1)} ms`,
    );
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
