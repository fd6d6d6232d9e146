import type { Kafka } from 'kafkajs';
import type { Gauge } from 'prom-client';
import type { EventsLogger } from './events-logger';
import { PeriodicSampler } from './periodic-sampler';
import { silentLogger } from './events-logger';

export interface ConsumerLagMonitorOptions {
  readonly kafka: Kafka;
  readonly gauge: Gauge<'consumer' | 'topic' | 'partition'>;
  /** Consumer group -> the topics it reads. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /** Default 15 s. */
  readonly intervalMs?: number;
  readonly logger?: EventsLogger;
}

/**
 * `consumer_lag{consumer,topic,partition}` from the broker's point of view: the partition's high
 * watermark minus the group's committed offset, sampled every `intervalMs` for every partition
 * of the group's topics. Unlike a value taken at the end of each fetched batch, it keeps growing
 * while a consumer is dead, stalled or paused (no batch ends then), and it does not keep a
 * partition a rebalance moved to another replica at its last value. A group that has committed
 * nothing yet on a partition counts from the partition's low watermark.
 */
export class ConsumerLagMonitor {
  private readonly sampler: PeriodicSampler;

  constructor(private readonly options: ConsumerLagMonitorOptions) {
    this.sampler = new PeriodicSampler(() => this.sampleAll(), options.intervalMs ?? 15_000);
  }

  start(): void {
    if (this.options.groups.size === 0) return;
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
      const ends = new Map<string, Map<number, { low: number; high: number }>>();
      const topics = new Set([...this.options.groups.values()].flat());
      for (const topic of topics) {
        const byPartition = new Map<number, { low: number; high: number }>();
        for (const p of await admin.fetchTopicOffsets(topic)) {
          byPartition.set(p.partition, { low: Number(p.low), high: Number(p.high) });
        }
        ends.set(topic, byPartition);
      }
      for (const [group, groupTopics] of this.options.groups) {
        const committed = await admin.fetchOffsets({ groupId: group, topics: [...groupTopics] });
        for (const { topic, partitions } of committed) {
          for (const { partition, offset } of partitions) {
            const end = ends.get(topic)?.get(partition);
            if (!end) continue;
            // -1: nothing committed yet; the group starts from the beginning (low watermark).
            const from = Number(offset) < 0 ? end.low : Number(offset);
            this.options.gauge.set(
              { consumer: group, topic, partition: String(partition) },
              Math.max(0, end.high - from),
            );
          }
        }
      }
    } catch (error) {
      (this.options.logger ?? silentLogger).debug('could not sample consumer lag', { err: error });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
