import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Kafka } from 'kafkajs';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventEnvelope, EventsLogger, InboxOutcome, OutboxRelay } from '../../src';
import {
  EventCodec,
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  InboxConsumer,
  Outbox,
  OutboxRelay as Relay,
  createKafkaClient,
  provisionTopics,
  silentLogger,
} from '../../src';
import type { PlatformMetrics } from '@tenantry/observability';
import { createMetrics } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import type { OrderPlaced } from './order-catalogue';
import { orderCatalogue } from './order-catalogue';
import { CreateOrderLedger1764230600000, CreateOrders1764230500000 } from './order-migrations';

export interface LedgerRow {
  order_id: string;
  total_cents: string;
  actor_id: string;
  seq: string;
}

/**
 * A two-sided test service that uses the libs exactly as real services do: the producer writes
 * orders and their events through the outbox; the consumer keeps a ledger through the inbox.
 */
export class OrderTestService {
  readonly domain = `t${randomBytes(4).toString('hex')}`;
  readonly catalogue = orderCatalogue(this.domain);
  readonly env = testStackEnv();
  readonly kafka: Kafka;
  readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  readonly outbox = new Outbox(this.codec, `/services/${this.domain}-orders`);
  readonly outcomes: { outcome: InboxOutcome; eventId?: string }[] = [];
  readonly logger: EventsLogger;
  readonly metrics: PlatformMetrics = createMetrics(`${this.domain}-orders`);
  /** When false, the consumer's handler rejects orders whose note is "poison". */
  poisonFixed = false;
  producerDb!: TestDatabase;
  consumerDb!: TestDatabase;
  producer!: DataSource;
  consumer!: DataSource;
  relay!: OutboxRelay;
  inbox!: InboxConsumer;

  constructor(options: { logger?: EventsLogger; kafkaBrokers?: string[] } = {}) {
    this.logger = options.logger ?? silentLogger;
    this.kafka = createKafkaClient({
      clientId: this.domain,
      brokers: options.kafkaBrokers ?? this.env.kafkaBrokers,
    });
  }

  async setUp(): Promise<this> {
    [this.producerDb, this.consumerDb] = await Promise.all([
      createTestDatabase(this.env.databaseAdminUrl, `${this.domain}_orders`),
      createTestDatabase(this.env.databaseAdminUrl, `${this.domain}_ledger`),
    ]);
    const producerConfig = {
      appUrl: this.producerDb.appUrl,
      ownerUrl: this.producerDb.ownerUrl,
      entities: [],
      migrations: [
        EventTables1764230400000,
        OutboxSetAside1796238000000,
        CreateOrders1764230500000,
      ],
    };
    const consumerConfig = {
      appUrl: this.consumerDb.appUrl,
      ownerUrl: this.consumerDb.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, CreateOrderLedger1764230600000],
    };
    await Promise.all([
      migrateServiceDatabase(producerConfig),
      migrateServiceDatabase(consumerConfig),
    ]);
    [this.producer, this.consumer] = await Promise.all([
      openServiceDataSource(producerConfig),
      openServiceDataSource(consumerConfig),
    ]);
    await provisionTopics(this.kafka, [{ name: this.catalogue.topic, partitions: 3 }]);
    await this.codec.register([this.catalogue.orderPlaced]);
    this.relay = new Relay({
      dataSource: this.producer,
      kafka: this.kafka,
      pollIntervalMs: 200,
      logger: this.logger,
      metrics: this.metrics,
    });
    await this.relay.start();
    await this.startConsumer();
    return this;
  }

  async startConsumer(): Promise<void> {
    this.inbox = new InboxConsumer({
      name: `${this.domain}-ledger`,
      kafka: this.kafka,
      dataSource: this.consumer,
      codec: this.codec,
      logger: this.logger,
      metrics: this.metrics,
      retry: { attempts: 2, initialDelayMs: 50, maxDelayMs: 100 },
      onOutcome: (outcome, metadata) => this.outcomes.push({ outcome, eventId: metadata?.id }),
    }).on(this.catalogue.orderPlaced, (event, tx) => this.recordOrder(event, tx.manager));
    await this.inbox.start();
  }

  private async recordOrder(
    event: EventEnvelope<OrderPlaced>,
    manager: { query(sql: string, params?: unknown[]): Promise<unknown> },
  ): Promise<void> {
    if (event.data.note === 'poison' && !this.poisonFixed) {
      throw new Error(`order ${event.data.orderId} cannot be recorded: poison note`);
    }
    await manager.query(
      `INSERT INTO order_ledger (tenant_id, order_id, total_cents, actor_id) VALUES ($1, $2, $3, $4)`,
      [event.tenantid, event.data.orderId, event.data.totalCents, event.actorid],
    );
    this.logger.info('order recorded', { order_id: event.data.orderId });
  }

  /** Places an order as `actorId` of `tenantId`: the row and its event in one transaction. */
  placeOrder(
    tenantId: string,
    order: Partial<OrderPlaced> & { orderId?: string } = {},
    options: { actorId?: string; failAfterWrite?: boolean; key?: string } = {},
  ): Promise<OrderPlaced> {
    const data: OrderPlaced = {
      orderId: order.orderId ?? randomUUID(),
      totalCents: order.totalCents ?? 1000,
      note: order.note ?? '',
    };
    const context = {
      tenantId,
      actor: { type: 'user' as const, id: options.actorId ?? 'user-1' },
      requestId: randomUUID(),
    };
    return runWithTenantContext(context, () =>
      withTenant(this.producer, tenantId, async (tx) => {
        await tx.manager.query(
          `INSERT INTO orders (id, tenant_id, total_cents) VALUES ($1, $2, $3)`,
          [data.orderId, tenantId, data.totalCents],
        );
        await this.outbox.publish(tx, this.catalogue.orderPlaced, {
          subject: data.orderId,
          data,
          ...(options.key ? { key: options.key } : {}),
        });
        if (options.failAfterWrite) throw new Error('the business rule failed after the write');
        return data;
      }),
    );
  }

  ledger(tenantId: string): Promise<LedgerRow[]> {
    return withTenant(this.consumer, tenantId, (tx) =>
      tx.manager.query(
        `SELECT order_id, total_cents, actor_id, seq FROM order_ledger ORDER BY seq`,
      ),
    );
  }

  async tearDown(): Promise<void> {
    await this.inbox?.stop();
    await this.relay?.stop();
    await this.producer?.destroy();
    await this.consumer?.destroy();
    await this.producerDb?.drop();
    await this.consumerDb?.drop();
  }
}
