import { Counter, Gauge } from 'prom-client';
import type { PlatformMetrics } from '@tenantry/observability';

export interface InboxFaultMetrics {
  /** Partitions of a consumer paused because a dependency is down (0 when healthy). */
  readonly paused: Gauge<'consumer'>;
  /** Failed attempts that were transient (retried after a pause, never dead-lettered). */
  readonly transientFailures: Counter<'consumer'>;
}

/**
 * The inbox's outage series, on the service's registry next to the platform metrics. Several
 * consumers of one service share the registry, so each series is created once and reused.
 */
export function inboxFaultMetrics(metrics: PlatformMetrics): InboxFaultMetrics {
  const { registry } = metrics;
  const paused =
    (registry.getSingleMetric('inbox_paused_partitions') as Gauge<'consumer'> | undefined) ??
    new Gauge({
      name: 'inbox_paused_partitions',
      help: 'Partitions an inbox consumer paused because a dependency (registry, database, broker) is down',
      labelNames: ['consumer'] as const,
      registers: [registry],
    });
  const transientFailures =
    (registry.getSingleMetric('inbox_transient_failures_total') as
      Counter<'consumer'> | undefined) ??
    new Counter({
      name: 'inbox_transient_failures_total',
      help: 'Inbox attempts that failed because a dependency was down; retried, never dead-lettered',
      labelNames: ['consumer'] as const,
      registers: [registry],
    });
  return { paused, transientFailures };
}
