import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import type { BuiltInRole } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { signContextToken } from '@tenantry/tenancy';
import { createLogger } from '@tenantry/observability';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { AuthorizationServiceHandle } from '../../src/authorization-service';
import { startAuthorizationService } from '../../src/authorization-service';
import type { AuthorizationConfig } from '../../src/config';
import { IdentityTestProducer } from './identity-test-producer';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A tenant made through identity events, with one user per requested role. */
export interface TestTenant {
  readonly tenantId: string;
  readonly ownerId: string;
  /** role -> user id holding (only) that role */
  readonly users: Record<BuiltInRole, string>;
}

/**
 * The authorization service on the real stack: its own database, its own consumer groups (so
 * test files never share partitions), an identity stand-in that publishes real identity events,
 * and signed requests as any actor.
 */
export class AuthorizationTestBed {
  readonly env = testStackEnv();
  /** The gateway's key pair: requests are signed with the private key, the service gets the public one. */
  readonly keys = contextTokenTestKeys();
  readonly groupPrefix = `authz-test-${randomBytes(4).toString('hex')}`;
  readonly identity = new IdentityTestProducer();
  readonly instances: AuthorizationServiceHandle[] = [];
  db!: TestDatabase;

  get service(): AuthorizationServiceHandle {
    const first = this.instances[0];
    if (!first) throw new Error('no service instance started');
    return first;
  }

  async setUp(): Promise<this> {
    [this.db] = await Promise.all([
      createTestDatabase(this.env.databaseAdminUrl, 'authz_test'),
      this.identity.setUp(),
    ]);
    await this.startInstance();
    return this;
  }

  config(overrides: Partial<AuthorizationConfig> = {}): AuthorizationConfig {
    return {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: this.db.appUrl,
      databaseOwnerUrl: this.db.ownerUrl,
      databasePoolSize: 5,
      kafkaBrokers: this.env.kafkaBrokers,
      schemaRegistryUrl: this.env.schemaRegistryUrl,
      contextKeys: this.keys.contextKeys,
      enforcerCacheSize: 100,
      enforcerTtlMs: 10 * 60_000,
      policyPollMs: 1000,
      instanceId: `i${this.instances.length}-${randomBytes(3).toString('hex')}`,
      consumerGroupPrefix: this.groupPrefix,
      ...overrides,
    };
  }

  async startInstance(
    overrides: Partial<AuthorizationConfig> = {},
  ): Promise<AuthorizationServiceHandle> {
    const handle = await startAuthorizationService(this.config(overrides), {
      logger: createLogger('authorization-test', { level: process.env.LOG_LEVEL ?? 'silent' }),
      relayPollIntervalMs: 100,
    });
    this.instances.push(handle);
    return handle;
  }

  async tearDown(): Promise<void> {
    for (const instance of this.instances) await instance.stop();
    await this.identity.tearDown();
    await this.db?.drop();
  }

  /** A request to `instance` signed by the gateway's key, as `actor` of `tenantId`. */
  async call(
    method: Method,
    path: string,
    tenantId: string,
    actor: Actor,
    body?: unknown,
    instance: AuthorizationServiceHandle = this.service,
  ): Promise<Response> {
    const token = await signContextToken(
      { tenantId, actor, requestId: `req-${randomUUID()}` },
      this.keys.signingKey,
      { audience: 'authorization' },
    );
    const pending = request(instance.app)[method](path).set('x-context-token', token);
    return body === undefined ? pending : pending.send(body as object);
  }

  asUser(userId: string): Actor {
    return { type: 'user', id: userId };
  }

  /** Roles of a subject as stored (what identity events and API calls have made of it). */
  async rolesInDatabase(
    tenantId: string,
    subjectType: string,
    subjectId: string,
  ): Promise<string[]> {
    const rows = (await withTenant(this.service.dataSource, tenantId, (tx) =>
      tx.manager.query(
        `SELECT role FROM role_assignments WHERE subject_type = $1 AND subject_id = $2 ORDER BY role`,
        [subjectType, subjectId],
      ),
    )) as { role: string }[];
    return rows.map((row) => row.role);
  }

  async waitForRoles(
    tenantId: string,
    subjectType: string,
    subjectId: string,
    expected: string[],
  ): Promise<void> {
    await waitFor(`${subjectType}:${subjectId} to hold [${expected.join(', ')}]`, async () => {
      const roles = await this.rolesInDatabase(tenantId, subjectType, subjectId);
      return JSON.stringify(roles) === JSON.stringify([...expected].sort());
    });
  }

  /** A fresh tenant through identity events: an owner plus one user per other built-in role. */
  async tenantWithEveryRole(): Promise<TestTenant> {
    const tenantId = randomUUID();
    const users = {
      owner: `owner-${randomUUID()}`,
      admin: `admin-${randomUUID()}`,
      member: `member-${randomUUID()}`,
      'billing-admin': `billing-${randomUUID()}`,
      viewer: `viewer-${randomUUID()}`,
    } satisfies Record<BuiltInRole, string>;
    await this.identity.tenantCreated(tenantId, users.owner);
    for (const role of ['admin', 'member', 'billing-admin', 'viewer'] as const) {
      await this.identity.membershipAdded(tenantId, users[role], role);
    }
    for (const [role, userId] of Object.entries(users)) {
      await this.waitForRoles(tenantId, 'user', userId, [role]);
    }
    return { tenantId, ownerId: users.owner, users };
  }
}
