import { Counter, Histogram } from 'prom-client';
import type { PlatformMetrics } from '@tenantry/observability';
import { createMetrics } from '@tenantry/observability';

/** The platform's metrics plus the gateway's own (no tenant labels: they would be unbounded). */
export interface GatewayMetrics extends PlatformMetrics {
  /** `limit`: tenant (its rate), public (per address), auth_failure (failed logins per address). */
  readonly rateLimitedTotal: Counter<'limit'>;
  /** 429s of the tenant limit by tenant (the busiest by id, the rest as "other"). */
  readonly tenantRateLimitedTotal: Counter<'tenant'>;
  readonly rateLimiterErrorsTotal: Counter;
  readonly authFailuresTotal: Counter;
  readonly usageWrittenTotal: Counter;
  readonly usageDroppedTotal: Counter;
  readonly permissionChecksTotal: Counter<'outcome' | 'cached'>;
  /** Authorization decision latency as requests feel it: a cache hit, or the call. */
  readonly permissionCheckDurationSeconds: Histogram<'outcome' | 'cached'>;
}

export function createGatewayMetrics(): GatewayMetrics {
  const metrics = createMetrics('gateway');
  const registers = [metrics.registry];
  return {
    ...metrics,
    rateLimitedTotal: new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429, by limit: tenant, public (per address), auth_failure (per address)',
      labelNames: ['limit'] as const,
      registers,
    }),
    tenantRateLimitedTotal: new Counter({
      name: 'gateway_tenant_rate_limited_total',
      help: 'Requests refused with 429 by the per-tenant limit, by tenant (busiest by id, the rest "other")',
      labelNames: ['tenant'] as const,
      registers,
    }),
    rateLimiterErrorsTotal: new Counter({
      name: 'gateway_rate_limiter_errors_total',
      help: 'Rate-limit decisions Redis could not make (the request was let through)',
      registers,
    }),
    authFailuresTotal: new Counter({
      name: 'gateway_auth_failures_total',
      help: 'Requests refused with 401 because their credential was missing or invalid',
      registers,
    }),
    usageWrittenTotal: new Counter({
      name: 'gateway_usage_written_total',
      help: 'Usage events written to the outbox',
      registers,
    }),
    usageDroppedTotal: new Counter({
      name: 'gateway_usage_dropped_total',
      help: 'Usage events dropped because the buffer was full while the database was unreachable',
      registers,
    }),
    permissionChecksTotal: new Counter({
      name: 'gateway_permission_checks_total',
      help: 'Coarse permission decisions (allowed, denied, unavailable, undeclared), cache hit or not',
      labelNames: ['outcome', 'cached'],
      registers,
    }),
    permissionCheckDurationSeconds: new Histogram({
      name: 'gateway_permission_check_duration_seconds',
      help: 'Time to a coarse permission decision (cache hit or call to authorization), by outcome',
      labelNames: ['outcome', 'cached'],
      // Cache hits are microseconds, calls milliseconds: buckets for both.
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
  };
}
