import type { Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { EventsLogger } from '../kafka/events-logger';
import { PeriodicSampler } from '../kafka/periodic-sampler';
import { silentLogger } from '../kafka/events-logger';

export interface DlqDepthMonitorOptions {
  readonly kafka: Kafka;
  readonly registry: Registry;
  /** The dead-letter topics to watch (`<topic>.dlq` of what the service consumes). */
  readonly topics: readonly string[];
  /** Default 30 s: a DLQ grows by events that failed for good, not by the millisecond. */
  readonly intervalMs?: number;
  readonly logger?: EventsLogger;
}

/**
 * `dlq_depth{topic}`: entries a dead-letter topic holds (high minus low watermark, over its
 * partitions), sampled every `intervalMs`. Replayed entries stay until the topic's retention
 * removes them, so the alert to set is on growth, not on the level (deploy/observability).
 */
export class DlqDepthMonitor {
  private readonly gauge: Gauge<'topic'>;
  private readonly sampler: PeriodicSampler;

  constructor(private readonly options: DlqDepthMonitorOptions) {
    const { registry } = options;
    this.gauge =
      (registry.getSingleMetric('dlq_depth') as Gauge<'topic'> | undefined) ??
      new Gauge({
        name: 'dlq_depth',
        help: 'Entries held by a dead-letter topic (replayed ones included until retention)',
        labelNames: ['topic'] as const,
        registers: [registry],
      });
    this.sampler = new PeriodicSampler(() => this.sampleAll(), options.intervalMs ?? 30_000);
  }

  start(): void {
    if (this.options.topics.length === 0) return;
    this.sampler.start();
  }

  stop(): Promise<void> {
    return this.sampler.stop();
  }

  /** One sample now (overlapping calls share it); a failure keeps the last values. */
  sample(): Promise<void> {
    return this.sampler.sample();
  }

  private async sampleAll(): Promise<void> {
    const admin = this.options.kafka.admin({ retry: { retries: 1 } });
    try {
      await admin.connect();
      for (const topic of this.options.topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        const depth = offsets.reduce((sum, p) => sum + (Number(p.high) - Number(p.low)), 0);
        this.gauge.set({ topic }, depth);
      }
    } catch (error) {
      (this.options.logger ?? silentLogger).debug('could not sample DLQ depth', { err: error });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
