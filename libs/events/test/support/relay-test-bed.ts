import { randomBytes, randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { PlatformMetrics } from '@tenantry/observability';
import { createMetrics } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import type { EventsLogger, OutboxRelayOptions } from '../../src';
import {
  EventCodec,
  EventTables1764230400000,
  Outbox,
  OutboxRelay,
  OutboxSetAside1796238000000,
  createKafkaClient,
} from '../../src';
import type { OrderPlaced } from './order-catalogue';
import { orderCatalogue } from './order-catalogue';

export interface LogLine {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

export interface OutboxRowState {
  id: string;
  status: string;
  attempts: number;
  refusals: number;
  last_error: string | null;
}

/**
 * A producer-only service for relay fault tests: a fresh database with the event tables, one
 * topic with the given broker settings, the real Outbox and OutboxRelay, and a plain reader of
 * the topic that records the order ids in the order Kafka holds them per partition.
 */
export class RelayTestBed {
  readonly domain = `r${randomBytes(4).toString('hex')}`;
  readonly catalogue = orderCatalogue(this.domain);
  readonly env = testStackEnv();
  readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  readonly outbox = new Outbox(this.codec, `/services/${this.domain}-orders`);
  readonly metrics: PlatformMetrics = createMetrics(`${this.domain}-orders`);
  readonly logs: LogLine[] = [];
  readonly received: { orderId: string; key: string }[] = [];
  readonly kafka: Kafka;
  readonly logger: EventsLogger = {
    error: (message, meta = {}) => this.logs.push({ level: 'error', message, meta }),
    warn: (message, meta = {}) => this.logs.push({ level: 'warn', message, meta }),
    info: (message, meta = {}) => this.logs.push({ level: 'info', message, meta }),
    debug: () => undefined,
  };
  database!: TestDatabase;
  dataSource!: DataSource;
  relay!: OutboxRelay;
  private reader: Consumer | undefined;

  /** `databaseAdminUrl`: a private PostgreSQL (tests that stop it); default the test stack's. */
  constructor(
    private readonly brokers: string[] = testStackEnv().kafkaBrokers,
    private readonly databaseAdminUrl: string = testStackEnv().databaseAdminUrl,
  ) {
    this.kafka = createKafkaClient({ clientId: this.domain, brokers });
  }

  async setUp(
    options: {
      topicConfig?: Record<string, string>;
      relay?: Partial<OutboxRelayOptions>;
    } = {},
  ): Promise<this> {
    this.database = await createTestDatabase(this.databaseAdminUrl, `${this.domain}_orders`);
    const config = {
      appUrl: this.database.appUrl,
      ownerUrl: this.database.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    };
    await migrateServiceDatabase(config);
    this.dataSource = await openServiceDataSource(config);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: this.catalogue.topic,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: Object.entries(options.topicConfig ?? {}).map(([name, value]) => ({
              name,
              value,
            })),
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    await this.codec.register([this.catalogue.orderPlaced]);
    this.relay = new OutboxRelay({
      dataSource: this.dataSource,
      kafka: this.kafka,
      logger: this.logger,
      metrics: this.metrics,
      maxBackoffMs: 1000,
      ...options.relay,
    });
    await this.relay.start();
    return this;
  }

  /** Reads the topic from its start, recording each order id. */
  async startReader(): Promise<void> {
    this.reader = this.kafka.consumer({ groupId: `${this.domain}-reader` });
    await this.reader.connect();
    await this.reader.subscribe({ topic: this.catalogue.topic, fromBeginning: true });
    await this.reader.run({
      eachMessage: async ({ message }) => {
        const order = await this.codec.decodeAs(this.catalogue.orderPlaced, message.value!);
        this.received.push({ orderId: order.orderId, key: message.key?.toString() ?? '' });
      },
    });
  }

  /** Writes one order event through the outbox, in a tenant transaction; returns its event id. */
  async write(
    tenantId: string,
    order: Partial<OrderPlaced> & { orderId: string },
    key?: string,
  ): Promise<string> {
    const context = {
      tenantId,
      actor: { type: 'user' as const, id: 'user-1' },
      requestId: randomUUID(),
    };
    const metadata = await runWithTenantContext(context, () =>
      withTenant(this.dataSource, tenantId, (tx) =>
        this.outbox.publish(tx, this.catalogue.orderPlaced, {
          subject: order.orderId,
          data: { totalCents: 1, note: '', ...order },
          ...(key ? { key } : {}),
        }),
      ),
    );
    return metadata.id;
  }

  /** Several order events in one transaction (one NOTIFY, one relay batch). */
  async writeMany(
    tenantId: string,
    orders: { data: Partial<OrderPlaced> & { orderId: string }; key: string }[],
  ): Promise<string[]> {
    const context = {
      tenantId,
      actor: { type: 'user' as const, id: 'user-1' },
      requestId: randomUUID(),
    };
    const written = await runWithTenantContext(context, () =>
      withTenant(this.dataSource, tenantId, (tx) =>
        this.outbox.publishMany(
          tx,
          this.catalogue.orderPlaced,
          orders.map(({ data, key }) => ({
            subject: data.orderId,
            data: { totalCents: 1, note: '', ...data },
            key,
          })),
        ),
      ),
    );
    return written.map((metadata) => metadata.id);
  }

  async rows(): Promise<OutboxRowState[]> {
    return this.dataSource.query(
      `SELECT id, status, attempts, refusals, last_error FROM event_outbox ORDER BY seq`,
    );
  }

  async counterValue(name: string): Promise<number> {
    const metric = await this.metrics.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  }

  async tearDown(): Promise<void> {
    await this.reader?.disconnect().catch(() => undefined);
    await this.relay?.stop();
    await this.dataSource?.destroy();
    await this.database?.drop();
    const admin = this.kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteTopics({ topics: [this.catalogue.topic] }))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
}
