import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  AUTHORIZATION_EVENTS,
  BILLING_EVENTS,
  GATEWAY_EVENTS,
  IDENTITY_EVENTS,
  PLATFORM_TOPICS,
} from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventDefinition, EventMetadata } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  Outbox,
  OutboxRelay,
  OutboxSetAside1796238000000,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import type { Actor } from '@tenantry/tenancy';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

/** An event to publish: its definition, envelope tenant, subject, payload and actor. */
export interface TestEvent<T = unknown> {
  readonly definition: EventDefinition<T>;
  readonly tenantId: string;
  readonly subject: string;
  readonly data: T;
  readonly actor?: Actor;
  /** Fixed event id (a re-produced copy of an event carries its id). */
  readonly id?: string;
}

/**
 * Stand-ins for identity, authorization, billing and the gateway on the producing side: their
 * real events, written with the real Outbox in a database of their own and published by the
 * real relay.
 */
export class EventTestProducer {
  readonly env = testStackEnv();
  private readonly kafka = createKafkaClient({
    clientId: `reporting-test-producer-${randomUUID().slice(0, 8)}`,
    brokers: this.env.kafkaBrokers,
  });
  private readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  private readonly outbox = new Outbox(this.codec, '/services/test-producer');
  private db!: TestDatabase;
  private dataSource!: DataSource;
  private relay!: OutboxRelay;

  async setUp(): Promise<this> {
    this.db = await createTestDatabase(this.env.databaseAdminUrl, 'reporting_producer');
    const config = {
      appUrl: this.db.appUrl,
      ownerUrl: this.db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    };
    await migrateServiceDatabase(config);
    this.dataSource = await openServiceDataSource(config);
    await provisionTopics(this.kafka, PLATFORM_TOPICS);
    await this.codec.register([
      ...IDENTITY_EVENTS,
      ...AUTHORIZATION_EVENTS,
      ...BILLING_EVENTS,
      ...GATEWAY_EVENTS,
    ]);
    this.relay = new OutboxRelay({
      dataSource: this.dataSource,
      kafka: this.kafka,
      pollIntervalMs: 50,
    });
    await this.relay.start();
    return this;
  }

  async tearDown(): Promise<void> {
    await this.relay?.stop();
    await this.dataSource?.destroy();
    await this.db?.drop();
  }

  /** Publishes the events in the order given, one transaction each. */
  async publishAll(events: readonly TestEvent[]): Promise<EventMetadata[]> {
    const published: EventMetadata[] = [];
    for (const event of events) published.push(await this.publish(event));
    return published;
  }

  publish<T>(event: TestEvent<T>): Promise<EventMetadata> {
    const actor = event.actor ?? { type: 'service', id: 'test-producer' };
    const context = { tenantId: event.tenantId, actor, requestId: `req-${randomUUID()}` };
    return runWithTenantContext(context, () =>
      withTenant(this.dataSource, event.tenantId, (tx) =>
        this.outbox.publish(tx, event.definition, {
          subject: event.subject,
          data: event.data,
          ...(event.id ? { id: event.id } : {}),
        }),
      ),
    );
  }

  /** Publishes already published events again, same ids: at-least-once redelivery / replay. */
  async redeliver(eventIds: readonly string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_outbox SET published_at = NULL WHERE id = ANY($1::text[])`,
      [eventIds],
    );
  }

  /** True once the relay has published every row. */
  async drained(): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL`,
    )) as { n: number }[];
    return rows[0]?.n === 0;
  }
}
