import { randomBytes, randomUUID } from 'node:crypto';
// A test harness writing the exact wire format the outboxes write (so a test controls what one
// fetch returns) and choosing partitions with the producer's own partitioner: no service code.
// eslint-disable-next-line no-restricted-imports
import type { Kafka, Message, PartitionMetadata } from 'kafkajs';
// eslint-disable-next-line no-restricted-imports
import { Partitioners } from 'kafkajs';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { ApiCallCompleted } from '@tenantry/contracts';
import {
  ApiCallCompletedEvent,
  BILLING_EVENTS,
  BILLING_JOBS,
  InvoiceIssuedEvent,
  PLATFORM_TOPICS,
  PeriodCloseRequestedJob,
  TenantCreatedEvent,
} from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type {
  EventBatchHandler,
  EventDefinition,
  EventHandler,
  EventMetadata,
  EventsLogger,
  InboxConsumerOptions,
  InboxOutcome,
} from '@tenantry/events';
import {
  EventCodec,
  InboxConsumer,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  metadataToHeaders,
  provisionTopics,
} from '@tenantry/events';
import { createLogger, createMetrics } from '@tenantry/observability';
import type { ServiceConsumerOptions } from '@tenantry/service-runtime';
import { ServiceConsumers } from '@tenantry/service-runtime';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, waitFor } from '@tenantry/testing';
import type { BillingDeps } from '../../src/application/billing-deps';
import { BILLING_SOURCE } from '../../src/application/billing-deps';
import { DEFAULT_DATABASE_POOL_SIZE } from '../../src/config';
import type { Clock } from '../../src/domain/clock';
import { SYSTEM_CLOCK } from '../../src/domain/clock';
import type { BillingConsumers } from '../../src/messaging/billing-consumers';
import { createBillingConsumers } from '../../src/messaging/billing-consumers';
import { BILLING_ENTITIES } from '../../src/persistence/entities/billing-entities';
import { InvoiceRepository } from '../../src/persistence/invoice-repository';
import { BILLING_MIGRATIONS } from '../../src/persistence/migrations/billing-migrations';
import { PlanRepository } from '../../src/persistence/plan-repository';
import { ScheduleRepository } from '../../src/persistence/schedule-repository';
import { SeatRepository } from '../../src/persistence/seat-repository';
import { SubscriptionRepository } from '../../src/persistence/subscription-repository';
import { UsageRepository } from '../../src/persistence/usage-repository';

/**
 * One fetched kafkajs batch the consumer finished: every event of it, and every one before it in
 * its partition, settled (the inbox's `onBatchSettled`).
 */
export interface FinishedBatch {
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  readonly size: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  /** From its fetch until then, ms. */
  readonly durationMs: number;
  /** `Date.now()` when it finished. */
  readonly at: number;
}

export interface BillingObserver {
  /** After the transaction that applied the event committed (the inbox's `onOutcome`). */
  readonly outcome?: (consumer: string, outcome: InboxOutcome, metadata?: EventMetadata) => void;
  readonly batch?: (batch: FinishedBatch) => void;
}

export interface PrivateTopicBillingOptions {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly databaseAdminUrl: string;
  /** Prefix of the private topics, consumer groups and database (fresh per run). */
  readonly domain?: string;
  /** Partitions of the private usage topic; the platform's `gateway.usage` has 12. */
  readonly usagePartitions?: number;
  readonly databasePoolSize?: number;
  readonly logger?: EventsLogger;
  /** Billing's "now" (a ManualClock moves periods to their end); the system clock by default. */
  readonly clock?: Clock;
}

/** An InboxConsumer whose handlers read `<domain>.<topic>` instead of the platform topic. */
class RedirectedInboxConsumer extends InboxConsumer {
  private readonly redirect: (topic: string) => string;

  constructor(options: InboxConsumerOptions, redirect: (topic: string) => string) {
    super(options);
    this.redirect = redirect;
  }

  override on<T>(definition: EventDefinition<T>, handler: EventHandler<T>): this {
    return super.on({ ...definition, topic: this.redirect(definition.topic) }, handler);
  }

  override onBatch<T>(definition: EventDefinition<T>, handler: EventBatchHandler<T>): this {
    return super.onBatch({ ...definition, topic: this.redirect(definition.topic) }, handler);
  }
}

/** The runtime's consumer registry, but every consumer is redirected and observed. */
class RedirectedConsumers extends ServiceConsumers {
  readonly created = new Map<string, InboxConsumer>();

  constructor(
    private readonly wiring: Pick<
      InboxConsumerOptions,
      'kafka' | 'dataSource' | 'codec' | 'logger' | 'metrics'
    >,
    private readonly redirect: (topic: string) => string,
    private readonly observer: BillingObserver,
    deps: ConstructorParameters<typeof ServiceConsumers>[0],
  ) {
    super(deps);
  }

  override durable(name: string, options: ServiceConsumerOptions = {}): InboxConsumer {
    const observer = this.observer;
    const consumer = new RedirectedInboxConsumer(
      {
        ...this.wiring,
        ...options,
        name,
        onOutcome: (outcome, metadata) => {
          options.onOutcome?.(outcome, metadata);
          observer.outcome?.(name, outcome, metadata);
        },
        onBatchSettled: (batch) => {
          options.onBatchSettled?.(batch);
          observer.batch?.({ consumer: name, ...batch, at: Date.now() });
        },
      },
      this.redirect,
    );
    this.created.set(name, consumer);
    return consumer;
  }
}

const silent: EventsLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/**
 * Billing's real consumers (`createBillingConsumers`: its handlers, repositories, schema and
 * consumer options) against a fresh database, reading **private copies** of the platform topics
 * (`<domain>.identity.events`, `<domain>.gateway.usage`, same event types and schemas) instead
 * of the shared ones. A flood of usage events on the shared `gateway.usage` would be read (and
 * refused: unknown tenant, retries, DLQ) by every billing test that starts in the next 24 hours;
 * a private topic also gives a test exact control of what a fetch returns.
 *
 * Events are produced as the gateway's and identity's outboxes write them: `ce_*` headers,
 * registry-encoded value (the platform's own subjects), key `<tenant>:<subject>` (for a usage
 * event the subject is the request id, so one tenant's calls spread over every partition).
 */
export class PrivateTopicBilling {
  readonly domain: string;
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  db!: TestDatabase;
  dataSource!: DataSource;
  deps!: BillingDeps;
  readonly usagePartitions: number;
  private readonly logger: EventsLogger;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private declared = 0;
  private readonly started: InboxConsumer[] = [];
  private relay: OutboxRelay | undefined;

  constructor(private readonly options: PrivateTopicBillingOptions) {
    this.domain = options.domain ?? `billing-priv-${randomBytes(4).toString('hex')}`;
    this.logger = options.logger ?? silent;
    this.usagePartitions =
      options.usagePartitions ??
      PLATFORM_TOPICS.find((t) => t.name === ApiCallCompletedEvent.topic)?.partitions ??
      12;
    this.kafka = createKafkaClient({
      clientId: `${this.domain}-client`,
      brokers: [...options.kafkaBrokers],
      logger: this.logger,
    });
    this.codec = new EventCodec(options.schemaRegistryUrl);
  }

  /** The private copy of a platform topic. */
  topicOf(platformTopic: string): string {
    return `${this.domain}.${platformTopic}`;
  }

  get usageTopic(): string {
    return this.topicOf(ApiCallCompletedEvent.topic);
  }

  get identityTopic(): string {
    return this.topicOf(TenantCreatedEvent.topic);
  }

  async setUp(): Promise<this> {
    this.db = await createTestDatabase(
      this.options.databaseAdminUrl,
      this.domain.replace(/[^a-z0-9]/g, '_'),
    );
    const database = {
      appUrl: this.db.appUrl,
      ownerUrl: this.db.ownerUrl,
      poolSize: this.options.databasePoolSize ?? DEFAULT_DATABASE_POOL_SIZE,
      entities: BILLING_ENTITIES,
      migrations: BILLING_MIGRATIONS,
      applicationName: 'billing',
    };
    await migrateServiceDatabase(database);
    this.dataSource = await openServiceDataSource(database);
    await provisionTopics(this.kafka, [
      { name: this.identityTopic, partitions: 1 },
      { name: this.usageTopic, partitions: this.usagePartitions },
    ]);
    // The platform's own subjects (they exist on any registry the services ran against): the
    // private topics carry the same schemas, and billing's outbox encodes its own events.
    await this.codec.register([
      TenantCreatedEvent as EventDefinition<unknown>,
      ApiCallCompletedEvent as EventDefinition<unknown>,
      ...BILLING_EVENTS,
      ...BILLING_JOBS,
    ]);
    this.deps = {
      plans: new PlanRepository(this.dataSource),
      subscriptions: new SubscriptionRepository(),
      usage: new UsageRepository(),
      seats: new SeatRepository(),
      invoices: new InvoiceRepository(),
      schedule: new ScheduleRepository(),
      // Nothing relays this outbox unless `startRelay` is called, and then only to private topics.
      outbox: new Outbox(this.codec, BILLING_SOURCE),
      clock: this.options.clock ?? SYSTEM_CLOCK,
      paymentTermsDays: 14,
      closeRetryMs: 60_000,
    };
    return this;
  }

  get jobsTopic(): string {
    return this.topicOf(PeriodCloseRequestedJob.topic);
  }

  get billingEventsTopic(): string {
    return this.topicOf(InvoiceIssuedEvent.topic);
  }

  /**
   * Billing's own outbox relayed by the real OutboxRelay, but to private copies of its topics
   * (`<domain>.billing.jobs`, `<domain>.billing.events`, the platform's partition counts): a
   * trigger on this database's event_outbox prefixes every row's topic with `<domain>.` (rows
   * already waiting too), so a run of period-close jobs never reaches the platform's
   * `billing.jobs`, which other test beds read. The jobs consumer already reads the private copy.
   */
  async startRelay(): Promise<OutboxRelay> {
    if (this.relay) return this.relay;
    const topics = [...new Set([...BILLING_EVENTS, ...BILLING_JOBS].map((d) => d.topic))];
    await provisionTopics(
      this.kafka,
      topics.map((topic) => ({
        name: this.topicOf(topic),
        partitions: PLATFORM_TOPICS.find((t) => t.name === topic)?.partitions ?? 3,
      })),
    );
    const prefix = `${this.domain}.`.replace(/'/g, "''");
    // The table's owner (the migrations') may add a trigger; the service's role may not.
    const owner = new Client({ connectionString: this.db.ownerUrl });
    await owner.connect();
    try {
      await owner.query(`BEGIN`);
      await owner.query(`
        CREATE FUNCTION private_outbox_topic() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF left(NEW.topic, length(TG_ARGV[0])) <> TG_ARGV[0] THEN
            NEW.topic := TG_ARGV[0] || NEW.topic;
          END IF;
          RETURN NEW;
        END $$`);
      await owner.query(`
        CREATE TRIGGER private_outbox_topic BEFORE INSERT ON event_outbox
        FOR EACH ROW EXECUTE FUNCTION private_outbox_topic('${prefix}')`);
      await owner.query(
        `UPDATE event_outbox SET topic = $1 || topic
         WHERE published_at IS NULL AND left(topic, length($1)) <> $1`,
        [`${this.domain}.`],
      );
      await owner.query(`COMMIT`);
    } finally {
      await owner.end();
    }
    // As the service runtime builds it (create-service.ts).
    this.relay = new OutboxRelay({
      dataSource: this.dataSource,
      kafka: this.kafka,
      logger: this.logger,
      pollIntervalMs: 1000,
    });
    await this.relay.start();
    return this.relay;
  }

  /** Another private usage topic (e.g. one per scenario), `<domain>.<name>.gateway.usage`. */
  async provisionUsageTopic(name: string, partitions = this.usagePartitions): Promise<string> {
    const topic = this.topicOf(`${name}.${ApiCallCompletedEvent.topic}`);
    await provisionTopics(this.kafka, [{ name: topic, partitions }]);
    return topic;
  }

  /**
   * Billing's consumers as `createBillingConsumers` declares them (group `<prefix>.usage` etc.),
   * not started; start the ones needed with `start`. `usageTopic` replaces the private usage
   * topic (see `provisionUsageTopic`).
   */
  consumers(
    observer: BillingObserver = {},
    options: { groupPrefix?: string; usageTopic?: string } = {},
  ): BillingConsumers {
    const groupPrefix = options.groupPrefix ?? `${this.domain}-g${this.declared}`;
    this.declared += 1;
    const metrics = createMetrics('billing');
    const winston = createLogger('billing-private', { level: 'silent' });
    const connections = {
      kafka: this.kafka,
      dataSource: this.dataSource,
      codec: this.codec,
      logger: this.logger,
      metrics,
    };
    const usageTopic = options.usageTopic;
    const redirect = (topic: string): string =>
      usageTopic && topic === ApiCallCompletedEvent.topic ? usageTopic : this.topicOf(topic);
    const registry = new RedirectedConsumers(connections, redirect, observer, {
      ...connections,
      logger: winston,
      instanceId: groupPrefix,
    });
    return createBillingConsumers({
      consumers: registry,
      deps: this.deps,
      groupPrefix,
      // Nothing here should be refused; if something is, it reaches the DLQ fast.
      usageRetry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
    });
  }

  async start(consumer: InboxConsumer): Promise<void> {
    this.started.push(consumer);
    await consumer.start();
  }

  async stop(consumer: InboxConsumer): Promise<void> {
    const at = this.started.indexOf(consumer);
    if (at >= 0) this.started.splice(at, 1);
    await consumer.stop();
  }

  /** The partition kafkajs' default partitioner (murmur2, as the relay's producer) picks. */
  partitionOf(key: string, partitions = this.usagePartitions): number {
    const partitionMetadata = Array.from(
      { length: partitions },
      (_, partitionId): PartitionMetadata => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        offlineReplicas: [],
        partitionErrorCode: 0,
      }),
    );
    return this.partitioner({
      topic: this.usageTopic,
      partitionMetadata,
      message: { key, value: null },
    });
  }

  /**
   * One API call's usage event as the gateway's outbox writes it. `partition`: draw request ids
   * until the key `<tenant>:<request id>` lands there (or, with `avoid`, anywhere else).
   */
  async usageMessage(
    tenantId: string,
    where: { partition?: number; avoid?: number } = {},
  ): Promise<{ message: Message; metadata: EventMetadata; partition: number }> {
    let requestId = `req-${randomUUID()}`;
    let partition = this.partitionOf(`${tenantId}:${requestId}`);
    while (
      (where.partition !== undefined && partition !== where.partition) ||
      (where.avoid !== undefined && partition === where.avoid)
    ) {
      requestId = `req-${randomUUID()}`;
      partition = this.partitionOf(`${tenantId}:${requestId}`);
    }
    const data: ApiCallCompleted = {
      tenantId,
      actorType: 'user',
      actorId: 'u-flood',
      method: 'GET',
      route: '/v1/members',
      service: 'identity',
      status: 200,
      latencyMs: 3.5,
      requestId,
      completedAt: new Date().toISOString(),
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
      actorid: 'u-flood',
      correlationid: requestId,
    };
    const message: Message = {
      key: `${tenantId}:${requestId}`,
      value: await this.codec.encode(ApiCallCompletedEvent, data),
      headers: metadataToHeaders(metadata),
    };
    return { message, metadata, partition };
  }

  /** Sends in order, `chunk` messages per request; returns each message's offset, in order. */
  async produce(
    topic: string,
    messages: readonly Message[],
    chunk = 500,
    partitions = this.usagePartitions,
  ): Promise<string[]> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const offsets: string[] = [];
      for (let i = 0; i < messages.length; i += chunk) {
        const part = messages.slice(i, i + chunk);
        const acks = await producer.send({ topic, acks: -1, messages: part });
        // Per partition, the chunk's messages got consecutive offsets from its base offset.
        const next = new Map(acks.map((a) => [a.partition, BigInt(a.baseOffset ?? '0')]));
        for (const message of part) {
          const p = message.partition ?? this.partitionOf(String(message.key), partitions);
          const offset = next.get(p) ?? 0n;
          offsets.push(offset.toString());
          next.set(p, offset + 1n);
        }
      }
      return offsets;
    } finally {
      await producer.disconnect();
    }
  }

  /** Tenants through their `identity.tenant.created` events, consumed by billing's identity consumer. */
  async createTenants(tenantIds: readonly string[]): Promise<void> {
    const messages: Message[] = [];
    for (const tenantId of tenantIds) {
      const metadata: EventMetadata = {
        id: randomUUID(),
        source: '/services/identity',
        type: TenantCreatedEvent.type,
        specversion: '1.0',
        time: new Date().toISOString(),
        subject: tenantId,
        tenantid: tenantId,
        actortype: 'service',
        actorid: 'identity',
        correlationid: randomUUID(),
      };
      messages.push({
        key: `${tenantId}:${tenantId}`,
        value: await this.codec.encode(TenantCreatedEvent, {
          tenantId,
          name: `Tenant ${tenantId.slice(0, 8)}`,
          slug: `t-${tenantId.slice(0, 8)}`,
          ownerUserId: `owner-${tenantId.slice(0, 8)}`,
          ownerEmail: `owner-${tenantId.slice(0, 8)}@example.test`,
          plan: 'free',
          createdAt: new Date().toISOString(),
        }),
        headers: metadataToHeaders(metadata),
      });
    }
    await this.produce(this.identityTopic, messages, 500, 1);
    const { identity } = this.consumers({}, { groupPrefix: `${this.domain}-identity` });
    await this.start(identity);
    try {
      await waitFor(
        'the subscriptions to open',
        async () => {
          for (const tenantId of tenantIds) {
            const rows = await this.query<{ n: number }>(
              tenantId,
              `SELECT count(*)::int AS n FROM subscriptions`,
            );
            if (rows[0]?.n !== 1) return undefined;
          }
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
    } finally {
      await this.stop(identity);
    }
  }

  /** Rows of a query in the tenant's transaction (RLS applies). */
  async query<T>(tenantId: string, sql: string, params: unknown[] = []): Promise<T[]> {
    return (await withTenant(this.dataSource, tenantId, (tx) =>
      tx.manager.query(sql, params),
    )) as T[];
  }

  /** Ledger rows and the aggregate's total of a tenant: the service's own count. */
  async usageOf(tenantId: string): Promise<{ ledger: number; aggregated: number }> {
    const [row] = await this.query<{ ledger: number; aggregated: string }>(
      tenantId,
      `SELECT (SELECT count(*)::int FROM usage_ledger) AS ledger,
              (SELECT coalesce(sum(quantity), 0)::text FROM usage_aggregates) AS aggregated`,
    );
    return { ledger: row?.ledger ?? 0, aggregated: Number(row?.aggregated ?? 0) };
  }

  /** Stops what runs, deletes the private topics and consumer groups, drops the database. */
  async tearDown(): Promise<void> {
    const step = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        this.logger.warn(`private billing cleanup: ${what} failed`, { err: error });
      }
    };
    await step('stop the relay', async () => this.relay?.stop());
    for (const consumer of [...this.started])
      await step('stop consumer', () => this.stop(consumer));
    await step('delete topics and groups', async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const ours = [...existing].filter((t) => t.startsWith(`${this.domain}.`));
        if (ours.length > 0) await admin.deleteTopics({ topics: ours, timeout: 30_000 });
        const { groups } = await admin.listGroups();
        const mine = groups.map((g) => g.groupId).filter((id) => id.startsWith(this.domain));
        if (mine.length > 0) await admin.deleteGroups(mine);
      } finally {
        await admin.disconnect();
      }
    });
    await step('close the pool', async () => {
      if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    });
    await step('drop the database', async () => this.db?.drop());
  }
}
