import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ApiCallCompleted } from '@tenantry/contracts';
import {
  ApiCallCompletedEvent,
  BILLING_JOBS,
  GATEWAY_EVENTS,
  IDENTITY_EVENTS,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  PLATFORM_TOPICS,
  TenantCreatedEvent,
  TenantDeletedEvent,
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

/**
 * Stand-ins for identity and the gateway on the producing side: their real events, written with
 * the real Outbox in a database of their own and published by the real relay.
 */
export class EventTestProducer {
  readonly env = testStackEnv();
  private readonly kafka = createKafkaClient({
    clientId: `billing-test-producer-${randomUUID().slice(0, 8)}`,
    brokers: this.env.kafkaBrokers,
  });
  private readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  private readonly outbox = new Outbox(this.codec, '/services/test-producer');
  private db!: TestDatabase;
  private dataSource!: DataSource;
  private relay!: OutboxRelay;

  async setUp(): Promise<this> {
    this.db = await createTestDatabase(this.env.databaseAdminUrl, 'billing_producer');
    const config = {
      appUrl: this.db.appUrl,
      ownerUrl: this.db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    };
    await migrateServiceDatabase(config);
    this.dataSource = await openServiceDataSource(config);
    await provisionTopics(this.kafka, PLATFORM_TOPICS);
    await this.codec.register([...IDENTITY_EVENTS, ...GATEWAY_EVENTS, ...BILLING_JOBS]);
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

  publish<T>(
    envelopeTenant: string,
    definition: EventDefinition<T>,
    subject: string,
    data: T,
    actor: Actor = { type: 'service', id: 'test-producer' },
  ): Promise<EventMetadata> {
    const context = { tenantId: envelopeTenant, actor, requestId: `req-${randomUUID()}` };
    return runWithTenantContext(context, () =>
      withTenant(this.dataSource, envelopeTenant, (tx) =>
        this.outbox.publish(tx, definition, { subject, data }),
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

  tenantCreated(
    tenantId: string,
    ownerUserId: string,
    at: Date,
    plan = 'free',
  ): Promise<EventMetadata> {
    return this.publish(tenantId, TenantCreatedEvent, tenantId, {
      tenantId,
      name: `Tenant ${tenantId.slice(0, 8)}`,
      slug: `t-${tenantId.slice(0, 8)}`,
      ownerUserId,
      ownerEmail: `${ownerUserId}@example.test`,
      plan,
      createdAt: at.toISOString(),
    });
  }

  tenantDeleted(tenantId: string, at: Date): Promise<EventMetadata> {
    return this.publish(tenantId, TenantDeletedEvent, tenantId, {
      tenantId,
      deletedAt: at.toISOString(),
    });
  }

  membershipAdded(tenantId: string, userId: string, at: Date): Promise<EventMetadata> {
    return this.publish(tenantId, MembershipAddedEvent, userId, {
      tenantId,
      userId,
      email: `${userId}@example.test`,
      displayName: userId,
      role: 'member',
      invitationId: null,
      addedAt: at.toISOString(),
    });
  }

  membershipRemoved(tenantId: string, userId: string, at: Date): Promise<EventMetadata> {
    return this.publish(tenantId, MembershipRemovedEvent, userId, {
      tenantId,
      userId,
      removedAt: at.toISOString(),
    });
  }

  apiCall(
    tenantId: string,
    at: Date,
    overrides: Partial<ApiCallCompleted> = {},
    envelopeTenant = tenantId,
  ): Promise<EventMetadata> {
    return this.publish(envelopeTenant, ApiCallCompletedEvent, tenantId, {
      ...apiCallPayload(tenantId, at),
      ...overrides,
    });
  }
}

/** A successful API call of `tenantId` at `at`, as the gateway reports it. */
export function apiCallPayload(
  tenantId: string,
  at: Date,
  requestId = `req-${randomUUID()}`,
): ApiCallCompleted {
  return {
    tenantId,
    actorType: 'user',
    actorId: 'u-1',
    method: 'GET',
    route: '/v1/members',
    service: 'identity',
    status: 200,
    latencyMs: 3.5,
    requestId,
    completedAt: at.toISOString(),
  };
}
