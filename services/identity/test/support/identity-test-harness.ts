import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Test } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { EventCodec } from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
import type { Actor } from '@tenantry/tenancy';
import { signContextToken } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv } from '@tenantry/testing';
import { createOperator } from '../../src/application/operators/create-operator';
import { loadConfig } from '../../src/config';
import type { IdentityService } from '../../src/identity-service';
import { createIdentityService } from '../../src/identity-service';

export interface SignedUpTenant {
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly userId: string;
  readonly email: string;
  readonly password: string;
}

export interface OutboxRow {
  id: string;
  event_type: string;
  tenant_id: string;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * The identity service in-process against a fresh database, called the way the gateway calls
 * it: supertest requests carrying a context token signed with the (test) gateway's private key.
 */
export class IdentityTestHarness {
  readonly env = testStackEnv();
  /** The gateway's key pair: the harness signs with the private key, identity gets the public one. */
  readonly contextKeys = contextTokenTestKeys();
  readonly codec = new EventCodec(this.env.schemaRegistryUrl);
  db!: TestDatabase;
  service!: IdentityService;
  /** Identity's "now": the real time plus what a test moved it by (`advance`). */
  private offsetMs = 0;
  readonly clock = { now: () => new Date(Date.now() + this.offsetMs) };

  async setUp(overrides: Record<string, string> = {}): Promise<this> {
    this.db = await createTestDatabase(this.env.databaseAdminUrl, 'identity');
    const config = loadConfig({
      IDENTITY_DATABASE_URL: this.db.appUrl,
      IDENTITY_DATABASE_OWNER_URL: this.db.ownerUrl,
      KAFKA_BROKERS: this.env.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: this.env.schemaRegistryUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      // A key prefix of this run's own, so counters never leak between tests.
      IDENTITY_REDIS_KEY_PREFIX: `identity-test-${randomBytes(6).toString('hex')}`,
      ...this.contextKeys.serviceEnv,
      IDENTITY_KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex'),
      SIGNING_KEY_PUBLISH_LEAD_SECONDS: '0',
      // Cheaper hashing keeps the suite fast; production uses the OWASP default.
      PASSWORD_HASH_MEMORY_KIB: '1024',
      IDENTITY_TRUST_PROXY: 'loopback',
      // Its own consumer group: the confirmations of other runs' tenants are not this one's.
      KAFKA_CONSUMER_GROUP_PREFIX: `identity-test-${randomBytes(4).toString('hex')}`,
      // Deletions are purged when a test ticks the scheduler, after a grace period it chooses.
      TENANT_DELETION_GRACE_PERIOD: '0',
      TENANT_PURGE_SCHEDULER_ENABLED: 'false',
      ...overrides,
    });
    this.service = await createIdentityService(config, {
      logger: createLogger('identity', { level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      clock: this.clock,
    });
    return this;
  }

  async tearDown(): Promise<void> {
    await this.service?.stop();
    await this.db?.drop();
  }

  get http(): TestAgent {
    return request(this.service.app);
  }

  /** A context token as the gateway would sign it. */
  async contextToken(tenantId: string, actor: Actor): Promise<string> {
    return signContextToken(
      { tenantId, actor, requestId: randomUUID() },
      this.contextKeys.signingKey,
      {
        audience: 'identity',
      },
    );
  }

  /** Sends `test` with a signed context for `actor` in `tenantId`. */
  async as(tenantId: string, actor: Actor, test: Test): Promise<Test> {
    return test.set('x-context-token', await this.contextToken(tenantId, actor));
  }

  asUser(tenant: { tenantId: string }, userId: string, test: Test): Promise<Test> {
    return this.as(tenant.tenantId, { type: 'user', id: userId }, test);
  }

  asGateway(test: Test): Promise<Test> {
    return this.as('platform', { type: 'service', id: 'gateway' }, test);
  }

  asOperator(operatorId: string, test: Test): Promise<Test> {
    return this.as('platform', { type: 'operator', id: operatorId }, test);
  }

  async signUp(overrides: Partial<Record<string, string>> = {}): Promise<SignedUpTenant> {
    const email = overrides.email ?? `owner-${randomUUID()}@example.com`;
    const password = overrides.password ?? `pw-${randomUUID()}`;
    const response = await this.http.post('/v1/signup').send({
      tenantName: overrides.tenantName ?? `Acme ${randomBytes(3).toString('hex')}`,
      email,
      password,
      displayName: overrides.displayName ?? 'Olive Owner',
    });
    if (response.status !== 201) {
      throw new Error(`sign-up failed: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return { ...response.body, email, password } as SignedUpTenant;
  }

  async logIn(
    email: string,
    password: string,
    tenant?: string,
  ): Promise<{ accessToken: string; refreshToken: string; tenantId: string; userId: string }> {
    const response = await this.http
      .post('/v1/auth/token')
      .send({ email, password, ...(tenant ? { tenant } : {}) });
    if (response.status !== 200) {
      throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }

  /** Invites `email` with `role` as `inviter` and accepts; returns the new member's user id. */
  async addMember(
    tenant: SignedUpTenant,
    role: string,
    email = `member-${randomUUID()}@example.com`,
    password = `pw-${randomUUID()}`,
  ): Promise<{ userId: string; email: string; password: string }> {
    const invitation = await this.asUser(
      tenant,
      tenant.userId,
      this.http.post('/v1/invitations').send({ email, role }),
    );
    if (invitation.status !== 201) throw new Error(`invite failed: ${invitation.status}`);
    const accepted = await this.http
      .post('/v1/invitations/accept')
      .send({ token: invitation.body.token, password, displayName: 'Mo Member' });
    if (accepted.status !== 201) {
      throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
    }
    return { userId: accepted.body.userId, email, password };
  }

  async createOperator(role: 'admin' | 'support' = 'admin'): Promise<string> {
    const created = await createOperator(
      this.service.deps.dataSource,
      this.service.deps.passwords,
      { email: `ops-${randomUUID()}@tenantry.dev`, password: `pw-${randomUUID()}`, role },
    );
    return created.operatorId;
  }

  /** Moves identity's clock forward (the deletion grace period passes). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Requests the deletion as `operatorId`, then runs the purge scheduler once. */
  async deleteTenant(operatorId: string, tenantId: string): Promise<request.Response> {
    const response = await this.asOperator(
      operatorId,
      this.http.delete(`/v1/platform/tenants/${tenantId}`),
    );
    await this.service.purgeScheduler.tick();
    return response;
  }

  /** Events written to the outbox for `tenantId` (any state: published or not). */
  async outbox(tenantId: string, type?: string): Promise<OutboxRow[]> {
    return (await this.service.deps.dataSource.query(
      `SELECT id, event_type, tenant_id, headers, value FROM event_outbox
       WHERE tenant_id = $1 AND ($2::text IS NULL OR event_type = $2) ORDER BY seq`,
      [tenantId, type ?? null],
    )) as OutboxRow[];
  }

  async payloadOf(row: OutboxRow): Promise<Record<string, unknown>> {
    return (await this.codec.decode(row.value)) as Record<string, unknown>;
  }
}
