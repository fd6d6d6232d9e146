import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { withTenant } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { signContextToken } from '@tenantry/tenancy';
import { createLogger } from '@tenantry/observability';
import type { InboxOutcome } from '@tenantry/events';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { BillingServiceHandle } from '../../src/billing-service';
import { startBillingService } from '../../src/billing-service';
import type { BillingConfig } from '../../src/config';
import { ManualClock } from '../../src/domain/clock';
import { EventTestProducer } from './event-test-producer';

type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * The billing service on the real stack: its own database and consumer groups, a clock the test
 * moves, producers of real identity and gateway events, and signed requests as any actor.
 */
export class BillingTestBed {
  readonly env = testStackEnv();
  /** The gateway's key pair: requests are signed with the private key, the service gets the public one. */
  readonly keys = contextTokenTestKeys();
  readonly groupPrefix = `billing-test-${randomBytes(4).toString('hex')}`;
  readonly producer = new EventTestProducer();
  readonly clock = new ManualClock(new Date('2026-03-10T00:00:00Z'));
  readonly instances: BillingServiceHandle[] = [];
  readonly usageOutcomes: InboxOutcome[] = [];
  db!: TestDatabase;

  get service(): BillingServiceHandle {
    const first = this.instances[0];
    if (!first) throw new Error('no service instance started');
    return first;
  }

  async setUp(): Promise<this> {
    [this.db] = await Promise.all([
      createTestDatabase(this.env.databaseAdminUrl, 'billing_test'),
      this.producer.setUp(),
    ]);
    await this.startInstance();
    return this;
  }

  config(overrides: Partial<BillingConfig> = {}): BillingConfig {
    return {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: this.db.appUrl,
      databaseOwnerUrl: this.db.ownerUrl,
      databasePoolSize: 5,
      kafkaBrokers: this.env.kafkaBrokers,
      schemaRegistryUrl: this.env.schemaRegistryUrl,
      contextKeys: this.keys.contextKeys,
      consumerGroupPrefix: this.groupPrefix,
      instanceId: `i${this.instances.length}-${randomBytes(3).toString('hex')}`,
      schedulerIntervalMs: 60_000,
      closeRetryMs: 60_000,
      paymentTermsDays: 14,
      // Tests tick the scheduler by hand after moving the clock.
      schedulerEnabled: false,
      ...overrides,
    };
  }

  async startInstance(overrides: Partial<BillingConfig> = {}): Promise<BillingServiceHandle> {
    const handle = await startBillingService(this.config(overrides), {
      logger: createLogger('billing-test', { level: process.env.LOG_LEVEL ?? 'silent' }),
      clock: this.clock,
      relayPollIntervalMs: 50,
      // Refused usage (history of other test runs on the shared topic too) reaches the DLQ fast.
      usageRetry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
      onUsageOutcome: (outcome) => this.usageOutcomes.push(outcome),
    });
    this.instances.push(handle);
    return handle;
  }

  async tearDown(): Promise<void> {
    for (const instance of this.instances) await instance.stop();
    await this.producer.tearDown();
    await this.db?.drop();
  }

  async call(
    method: Method,
    path: string,
    tenantId: string,
    actor: Actor,
    body?: unknown,
    instance: BillingServiceHandle = this.service,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<Response> {
    const token = await signContextToken(
      { tenantId, actor, requestId: `req-${randomUUID()}` },
      this.keys.signingKey,
      { audience: 'billing' },
    );
    const pending = request(instance.app)
      [method](path)
      .set('x-context-token', token)
      .set({ ...headers });
    return body === undefined ? pending : pending.send(body as object);
  }

  /** Rows of a query in the tenant's transaction (RLS applies). */
  async rows<T>(tenantId: string, sql: string, params: unknown[] = []): Promise<T[]> {
    return (await withTenant(this.service.dataSource, tenantId, (tx) =>
      tx.manager.query(sql, params),
    )) as T[];
  }

  async count(tenantId: string, sql: string, params: unknown[] = []): Promise<number> {
    const rows = await this.rows<{ n: number }>(tenantId, sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  /** A tenant through identity events, with its subscription open. */
  async tenant(plan = 'free', members = 0): Promise<{ tenantId: string; owner: Actor }> {
    const tenantId = randomUUID();
    const owner = `owner-${randomUUID()}`;
    await this.producer.tenantCreated(tenantId, owner, new Date('2026-03-01T00:00:00Z'), plan);
    for (let i = 0; i < members; i++) {
      await this.producer.membershipAdded(
        tenantId,
        `m${i}-${randomUUID()}`,
        new Date('2026-03-02T00:00:00Z'),
      );
    }
    await waitFor('the subscription to open', async () =>
      (await this.count(tenantId, `SELECT count(*)::int AS n FROM subscriptions`)) === 1
        ? true
        : undefined,
    );
    if (members > 0) {
      await waitFor('the seats to arrive', async () =>
        (await this.count(tenantId, `SELECT count(*)::int AS n FROM seat_events`)) === members + 1
          ? true
          : undefined,
      );
    }
    return { tenantId, owner: { type: 'user', id: owner } };
  }

  /** Events billing wrote to its outbox for the tenant, oldest first. */
  async outbox(
    tenantId: string,
    type: string,
  ): Promise<{ id: string; headers: Record<string, string> }[]> {
    return (await this.service.dataSource.query(
      `SELECT id, headers FROM event_outbox WHERE tenant_id = $1 AND event_type = $2 ORDER BY seq`,
      [tenantId, type],
    )) as { id: string; headers: Record<string, string> }[];
  }
}
