import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type {
  ApiKeyCreated,
  ApiKeyRevoked,
  MembershipAdded,
  MembershipRemoved,
  TenantCreated,
  TenantDeleted,
} from '@tenantry/contracts';
import {
  ApiKeyCreatedEvent,
  ApiKeyRevokedEvent,
  IDENTITY_EVENTS,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  TenantCreatedEvent,
  TenantDeletedEvent,
} from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventDefinition, EventMetadata } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import { PLATFORM_TOPICS } from '@tenantry/contracts';
import type { Actor } from '@tenantry/tenancy';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

/**
 * A stand-in for the identity service's producer side: its events, from the real catalogue,
 * written with the real Outbox in a database of its own and published by the real relay.
 */
export class IdentityTestProducer {
  readonly env = testStackEnv();
  private readonly kafka = createKafkaClient({
    clientId: `identity-test-${randomUUID().slice(0, 8)}`,
    brokers: this.env.kafkaBrokers,
  });
  private readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  private readonly outbox = new Outbox(this.codec, '/services/identity');
  private db!: TestDatabase;
  private dataSource!: DataSource;
  private relay!: OutboxRelay;

  async setUp(): Promise<this> {
    this.db = await createTestDatabase(this.env.databaseAdminUrl, 'identity_test');
    const config = {
      appUrl: this.db.appUrl,
      ownerUrl: this.db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    };
    await migrateServiceDatabase(config);
    this.dataSource = await openServiceDataSource(config);
    await provisionTopics(this.kafka, PLATFORM_TOPICS);
    await this.codec.register(IDENTITY_EVENTS);
    this.relay = new OutboxRelay({
      dataSource: this.dataSource,
      kafka: this.kafka,
      pollIntervalMs: 100,
    });
    await this.relay.start();
    return this;
  }

  async tearDown(): Promise<void> {
    await this.relay?.stop();
    await this.dataSource?.destroy();
    await this.db?.drop();
  }

  /** Writes one identity event as `actor` of the tenant (as identity would, in its transaction). */
  publish<T>(
    tenantId: string,
    definition: EventDefinition<T>,
    subject: string,
    data: T,
    actor: Actor = { type: 'user', id: 'identity-test-actor' },
  ): Promise<EventMetadata> {
    const context = { tenantId, actor, requestId: `req-${randomUUID()}` };
    return runWithTenantContext(context, () =>
      withTenant(this.dataSource, tenantId, (tx) =>
        this.outbox.publish(tx, definition, { subject, data }),
      ),
    );
  }

  /** Publishes an already published event again, same id: an at-least-once redelivery. */
  async redeliver(eventId: string): Promise<void> {
    await this.dataSource.query(`UPDATE event_outbox SET published_at = NULL WHERE id = $1`, [
      eventId,
    ]);
  }

  tenantCreated(tenantId: string, ownerUserId: string, at = new Date()): Promise<EventMetadata> {
    const data: TenantCreated = {
      tenantId,
      name: `Tenant ${tenantId.slice(0, 8)}`,
      slug: `t-${tenantId.slice(0, 8)}`,
      ownerUserId,
      ownerEmail: `${ownerUserId}@example.test`,
      plan: 'free',
      createdAt: at.toISOString(),
    };
    return this.publish(tenantId, TenantCreatedEvent, tenantId, data, {
      type: 'user',
      id: ownerUserId,
    });
  }

  tenantDeleted(tenantId: string): Promise<EventMetadata> {
    const data: TenantDeleted = { tenantId, deletedAt: new Date().toISOString() };
    return this.publish(tenantId, TenantDeletedEvent, tenantId, data);
  }

  membershipAdded(
    tenantId: string,
    userId: string,
    role: string,
    at = new Date(),
  ): Promise<EventMetadata> {
    const data: MembershipAdded = {
      tenantId,
      userId,
      email: `${userId}@example.test`,
      displayName: userId,
      role,
      invitationId: null,
      addedAt: at.toISOString(),
    };
    return this.publish(tenantId, MembershipAddedEvent, userId, data);
  }

  membershipRemoved(tenantId: string, userId: string, at = new Date()): Promise<EventMetadata> {
    const data: MembershipRemoved = { tenantId, userId, removedAt: at.toISOString() };
    return this.publish(tenantId, MembershipRemovedEvent, userId, data);
  }

  apiKeyCreated(tenantId: string, apiKeyId: string, role: string): Promise<EventMetadata> {
    const data: ApiKeyCreated = {
      apiKeyId,
      tenantId,
      name: 'ci key',
      prefix: apiKeyId.slice(0, 8),
      role,
      expiresAt: null,
      createdAt: new Date().toISOString(),
    };
    return this.publish(tenantId, ApiKeyCreatedEvent, apiKeyId, data);
  }

  apiKeyRevoked(tenantId: string, apiKeyId: string): Promise<EventMetadata> {
    const data: ApiKeyRevoked = {
      apiKeyId,
      tenantId,
      prefix: apiKeyId.slice(0, 8),
      revokedAt: new Date().toISOString(),
    };
    return this.publish(tenantId, ApiKeyRevokedEvent, apiKeyId, data);
  }
}
