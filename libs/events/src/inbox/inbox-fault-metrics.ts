import { Counter, Gauge } from 'prom-client';
import type { PlatformMetrics } from '@tenantry/observability';

export interface InboxFaultMetrics {
  /** Partitions of a consumer paused because a dependency is down (0 when healthy). */
  readonly paused: Gauge<'consumer'>;
  /** Failed attempts that were transient (retried after a pause, never dead-lettered). */
  readonly transientFailures: Counter<'consumer'>;
  /** kafkajs consumer crashes, by who restarts it (`kafkajs` itself, or the inbox when it won't). */
  readonly crashes: Counter<'consumer' | 'restarted_by'>;
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
  const crashes =
    (registry.getSingleMetric('inbox_consumer_crashes_total') as
      Counter<'consumer' | 'restarted_by'> | undefined) ??
    new Counter({
      name: 'inbox_consumer_crashes_total',
      help: 'Crashes of an inbox consumer; restarted_by says whether kafkajs or the inbox restarted it',
      labelNames: ['consumer', 'restarted_by'] as const,
      registers: [registry],
    });
  return { paused, transientFailures, crashes };
}
