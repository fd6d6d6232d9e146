import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TopTenants } from './top-tenants';

type HttpLabel = 'route' | 'method' | 'status' | 'tenant_class';

/**
 * How an inbox handled one event: `duplicate` means its id was already processed, `ignored` that
 * the consumer has no handler for its type, `failed` one failed attempt (it is retried).
 */
export type InboxOutcome = 'processed' | 'duplicate' | 'ignored' | 'failed' | 'dead_lettered';

export const INBOX_OUTCOMES: readonly InboxOutcome[] = [
  'processed',
  'duplicate',
  'ignored',
  'failed',
  'dead_lettered',
];

/** The platform's named metrics, one set per service process; libs update them by field. */
export interface PlatformMetrics {
  readonly registry: Registry;
  /** `route` is the route pattern (`/invoices/:id`), never the raw path, to bound cardinality. */
  readonly httpRequestsTotal: Counter<HttpLabel>;
  readonly httpRequestDurationSeconds: Histogram<HttpLabel>;
  /**
   * Requests by tenant: `tenant` is the id of one of the busiest tenants ({@link TopTenants}),
   * `other` for the rest, `none` without a tenant, so the series stay bounded. Apart from
   * `http_requests_total` so its histogram does not multiply by tenants.
   */
  readonly httpTenantRequestsTotal: Counter<'tenant' | 'route' | 'status'>;
  /** Gives a request's tenant its bounded label (counts it as it does). */
  readonly topTenants: TopTenants;
  /** Age of the oldest outbox row not yet published (0 when none waits). */
  readonly outboxOldestAgeSeconds: Gauge;
  /** Outbox rows not yet published; the `service` label comes from the registry's defaults. */
  readonly outboxBacklog: Gauge;
  readonly outboxPublishedTotal: Counter<'topic'>;
  /** Outbox rows set aside after the broker refused them for good (ADR 0009). */
  readonly outboxSetAsideTotal: Counter<'topic'>;
  /** `outcome` is an {@link InboxOutcome}. */
  readonly inboxProcessedTotal: Counter<'consumer' | 'outcome'>;
  readonly consumerLag: Gauge<'consumer' | 'topic' | 'partition'>;
  readonly dlqEventsTotal: Counter<'topic'>;
}

/** `METRICS_TOP_TENANTS`: how many of the busiest tenants metrics name by id (default 10). */
function topTenantsFromEnv(): number {
  const raw = process.env.METRICS_TOP_TENANTS;
  const n = raw === undefined || raw.trim() === '' ? 10 : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new Error(`METRICS_TOP_TENANTS: a whole number from 0 to 1000, not "${raw}"`);
  }
  return n;
}

/**
 * A fresh registry (not prom-client's global one, so tests and several services in one process
 * don't collide on names) with process metrics and the platform's metrics, every series
 * labelled with `service`.
 */
export function createMetrics(service: string): PlatformMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  return {
    registry,
    httpRequestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests handled, by route pattern, method, status and tenant class',
      labelNames: ['route', 'method', 'status', 'tenant_class'] as const,
      registers,
    }),
    httpRequestDurationSeconds: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by route pattern, method, status and tenant class',
      labelNames: ['route', 'method', 'status', 'tenant_class'] as const,
      registers,
    }),
    httpTenantRequestsTotal: new Counter({
      name: 'http_tenant_requests_total',
      help: 'HTTP requests by tenant (the busiest by id, the rest as "other"), route pattern and status',
      labelNames: ['tenant', 'route', 'status'] as const,
      registers,
    }),
    topTenants: new TopTenants({ top: topTenantsFromEnv() }),
    outboxOldestAgeSeconds: new Gauge({
      name: 'outbox_oldest_age_seconds',
      help: 'Age in seconds of the oldest outbox row not yet published, set-aside rows excluded',
      registers,
    }),
    outboxBacklog: new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox rows written but not yet published to Kafka, set-aside rows excluded',
      registers,
    }),
    outboxPublishedTotal: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox rows published to Kafka, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    outboxSetAsideTotal: new Counter({
      name: 'outbox_set_aside_total',
      help: 'Outbox rows set aside because the broker refused them for good, by topic',
      labelNames: ['topic'] as const,
      registers,
    }),
    inboxProcessedTotal: new Counter({
      name: 'inbox_processed_total',
      help: 'Events handled by inbox consumers, by consumer and outcome',
      labelNames: ['consumer', 'outcome'] as const,
      registers,
    }),
    consumerLag: new Gauge({
      name: 'consumer_lag',
      help: 'Events between a durable group’s committed offset and the partition high watermark, sampled from the broker',
      labelNames: ['consumer', 'topic', 'partition'] as const,
      registers,
    }),
    dlqEventsTotal: new Counter({
      name: 'dlq_events_total',
      help: 'Events moved to a dead-letter topic, by source topic',
      labelNames: ['topic'] as const,
      registers,
    }),
  };
}
