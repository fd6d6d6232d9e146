import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import type { EventCodec, InboxConsumerOptions, createKafkaClient } from '@tenantry/events';
import {
  ConsumerLagMonitor,
  DlqDepthMonitor,
  DurableInboxJanitor,
  InboxConsumer,
  InstanceInboxJanitor,
  dlqTopicOf,
} from '@tenantry/events';
import type { PlatformMetrics } from '@tenantry/observability';

type Kafka = ReturnType<typeof createKafkaClient>;

/** What a service chooses about a consumer; the runtime supplies its connections. */
export type ServiceConsumerOptions = Omit<
  InboxConsumerOptions,
  'name' | 'kafka' | 'dataSource' | 'codec' | 'logger' | 'metrics'
>;

export interface ServiceConsumersDeps {
  readonly kafka: Kafka;
  readonly dataSource: DataSource;
  readonly codec: EventCodec;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics;
  readonly instanceId: string;
  /**
   * Longest retention of the topics (or DLQs replayed into them) the durable consumers read:
   * their inbox rows are kept longer than this, so no redelivery can apply an event twice.
   */
  readonly topicRetentionMs?: number;
  readonly inboxRetentionMs?: number;
  /** How often `dlq_depth` is sampled (default 30 s). */
  readonly dlqDepthIntervalMs?: number;
  /** How often `consumer_lag` is sampled (default 15 s). */
  readonly lagIntervalMs?: number;
}

interface PerInstanceConsumer {
  readonly consumer: InboxConsumer;
  readonly name: string;
  readonly janitor: InstanceInboxJanitor;
}

/**
 * The service's inbox consumers, made here so each is started, pruned and stopped the same way:
 *
 * - durable: one group per service and purpose; its inbox rows are pruned only after the topic
 *   can no longer redeliver their events;
 * - per instance: a group per replica (every replica must see every event, e.g. to drop a cache);
 *   a clean stop deletes its inbox rows and its consumer group, and a crashed replica's rows are
 *   pruned by the survivors.
 */
export class ServiceConsumers {
  private readonly durableConsumers: { readonly name: string; readonly consumer: InboxConsumer }[] =
    [];
  private readonly perInstanceConsumers: PerInstanceConsumer[] = [];
  private durableJanitor: DurableInboxJanitor | undefined;
  private dlqDepth: DlqDepthMonitor | undefined;
  private lag: ConsumerLagMonitor | undefined;
  private started = false;

  constructor(private readonly deps: ServiceConsumersDeps) {}

  /** A consumer with a fixed group name shared by every replica of the service. */
  durable(name: string, options: ServiceConsumerOptions = {}): InboxConsumer {
    this.refuseAfterStart(name);
    const consumer = new InboxConsumer({ ...this.connections(), ...options, name });
    this.durableConsumers.push({ name, consumer });
    return consumer;
  }

  /** The group name of this replica's consumer declared with `namePrefix`. */
  instanceName(namePrefix: string): string {
    return `${namePrefix}${this.deps.instanceId}`;
  }

  /** A consumer whose group is `namePrefix` + this replica's instance id. */
  perInstance(namePrefix: string, options: ServiceConsumerOptions = {}): InboxConsumer {
    const name = this.instanceName(namePrefix);
    this.refuseAfterStart(name);
    const consumer = new InboxConsumer({ ...this.connections(), ...options, name });
    const janitor = new InstanceInboxJanitor({
      dataSource: this.deps.dataSource,
      logger: this.deps.logger,
      consumerPrefix: namePrefix,
      consumerName: name,
    });
    this.perInstanceConsumers.push({ consumer, name, janitor });
    return consumer;
  }

  /** Every consumer's group name, durable first. */
  names(): string[] {
    return [
      ...this.durableConsumers.map((entry) => entry.name),
      ...this.perInstanceConsumers.map((entry) => entry.name),
    ];
  }

  async startAll(): Promise<void> {
    this.started = true;
    const all = [...this.durableConsumers, ...this.perInstanceConsumers];
    await Promise.all(all.map((entry) => entry.consumer.start()));
    const durableNames = this.durableConsumers.map((entry) => entry.name);
    if (durableNames.length > 0) {
      this.durableJanitor = new DurableInboxJanitor({
        dataSource: this.deps.dataSource,
        logger: this.deps.logger,
        consumers: durableNames,
        keepMs: this.deps.inboxRetentionMs,
        topicRetentionMs: this.deps.topicRetentionMs,
      });
      this.durableJanitor.start();
    }
    for (const entry of this.perInstanceConsumers) entry.janitor.start();
    // The DLQs this service's consumers dead-letter into.
    const dlqs = [...new Set(all.flatMap((entry) => entry.consumer.topics.map(dlqTopicOf)))];
    this.dlqDepth = new DlqDepthMonitor({
      kafka: this.deps.kafka,
      registry: this.deps.metrics.registry,
      topics: dlqs,
      logger: this.deps.logger,
      intervalMs: this.deps.dlqDepthIntervalMs,
    });
    this.dlqDepth.start();
    // The durable groups' lag as the broker sees it (per-instance groups hold caches that start
    // at the newest offset: their lag says nothing an SRE acts on).
    this.lag = new ConsumerLagMonitor({
      kafka: this.deps.kafka,
      gauge: this.deps.metrics.consumerLag,
      groups: new Map(this.durableConsumers.map((entry) => [entry.name, entry.consumer.topics])),
      logger: this.deps.logger,
      intervalMs: this.deps.lagIntervalMs,
    });
    this.lag.start();
  }

  /** Stops every consumer, then removes what belonged to this replica only. */
  async stopAll(): Promise<void> {
    await this.dlqDepth?.stop();
    await this.lag?.stop();
    this.durableJanitor?.stop();
    for (const entry of this.perInstanceConsumers) entry.janitor.stop();
    const all = [...this.durableConsumers, ...this.perInstanceConsumers];
    await Promise.all(all.map((entry) => entry.consumer.stop()));
    if (this.perInstanceConsumers.length > 0) await this.forgetPerInstanceConsumers();
  }

  private async forgetPerInstanceConsumers(): Promise<void> {
    const { logger } = this.deps;
    for (const entry of this.perInstanceConsumers) {
      try {
        await entry.janitor.forgetOwnRows();
      } catch (error) {
        logger.warn('could not delete this replica’s inbox rows', {
          err: error,
          consumer: entry.name,
        });
      }
    }
    // A group nobody will join again would otherwise linger until offsets.retention.minutes.
    const admin = this.deps.kafka.admin();
    const groups = this.perInstanceConsumers.map((entry) => entry.name);
    try {
      await admin.connect();
      await admin.deleteGroups(groups);
    } catch (error) {
      logger.warn('could not delete this replica’s consumer groups', { err: error, groups });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private connections(): Pick<
    InboxConsumerOptions,
    'kafka' | 'dataSource' | 'codec' | 'logger' | 'metrics'
  > {
    const { kafka, dataSource, codec, logger, metrics } = this.deps;
    return { kafka, dataSource, codec, logger, metrics };
  }

  private refuseAfterStart(name: string): void {
    if (this.started) throw new Error(`consumer ${name} was created after the service started`);
    if (this.names().includes(name)) throw new Error(`consumer ${name} is declared twice`);
  }
}
