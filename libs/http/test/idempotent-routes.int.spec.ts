import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { Client } from 'pg';
import request from 'supertest';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import {
  enableTenantRowLevelSecurity,
  migrateServiceDatabase,
  openServiceDataSource,
  tenantTablesWithoutRowLevelSecurityAt,
  withCurrentTenant,
} from '@tenantry/db';
import { currentTenantContext, signContextToken } from '@tenantry/tenancy';
import type { ActorType } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import {
  ApiRoutes,
  IdempotencyKeys1796500000000,
  PostgresIdempotencyStore,
  createHttpApp,
} from '../src';
import type { PostgresIdempotencyStoreOptions } from '../src';

/** The handler's own tenant table: a second run of one request would show as a second row. */
class CreateCharges1796500000001 implements MigrationInterface {
  name = 'CreateCharges1796500000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE charges (
        seq bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        actor_id text NOT NULL,
        amount integer NOT NULL
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'charges');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE charges`);
  }
}

const AUDIENCE = 'idempotency-test';

interface Logged {
  level: string;
  message: string;
}

/** One replica of a small service: its own pool and store on the shared database. */
interface Replica {
  app: Express;
  dataSource: DataSource;
  logged: Logged[];
}

describe('idempotent routes on PostgreSQL', () => {
  const env = testStackEnv();
  const { signingKey, contextKeys } = contextTokenTestKeys();
  let db: TestDatabase;
  const dataSources: DataSource[] = [];
  /** What a test makes the handler do before it writes (wait for a gate, fail). */
  let beforeWrite: (run: number) => Promise<void> = async () => undefined;
  let runs = 0;

  async function replica(options: PostgresIdempotencyStoreOptions = {}): Promise<Replica> {
    const dataSource = await openServiceDataSource({
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [],
      poolSize: 4,
    });
    dataSources.push(dataSource);
    const logged: Logged[] = [];
    const log =
      (level: string) =>
      (message: string): void => {
        logged.push({ level, message });
      };
    const logger = { error: log('error'), warn: log('warn'), info: log('info') };
    const routes = new ApiRoutes(
      { title: 'charges', version: '1' },
      { idempotencyStore: new PostgresIdempotencyStore(dataSource, options), logger },
    ).add(
      {
        method: 'post',
        path: '/v1/accounts/:accountId/charges',
        summary: 'Charge an account',
        permission: 'charges:create',
        idempotency: 'required',
        params: z.strictObject({ accountId: z.string().min(1) }),
        body: z.strictObject({ amount: z.number().int().positive() }),
        responses: { 201: { description: 'Charged' } },
      },
      async ({ params, body, idempotencyKey }, _req, res) => {
        runs += 1;
        await beforeWrite(runs);
        const actorId = currentTenantContext()?.actor.id;
        const [row] = (await withCurrentTenant(dataSource, (tx) =>
          tx.manager.query(
            `INSERT INTO charges (tenant_id, actor_id, amount) VALUES ($1, $2, $3) RETURNING seq`,
            [tx.tenantId, actorId, body.amount],
          ),
        )) as { seq: string }[];
        res.status(201).setHeader('location', `/v1/charges/${row?.seq}`).json({
          chargeId: row?.seq,
          accountId: params.accountId,
          amount: body.amount,
          idempotencyKey,
        });
      },
    );
    const app = createHttpApp({
      serviceName: AUDIENCE,
      logger,
      contextKeys,
      configure: (a) => routes.mount(a),
    });
    return { app, dataSource, logged };
  }

  async function charge(
    target: Replica,
    key: string,
    amount: number,
    who: { tenantId: string; actorId?: string; actorType?: ActorType },
  ): Promise<request.Response> {
    const token = await signContextToken(
      {
        tenantId: who.tenantId,
        actor: { type: who.actorType ?? 'user', id: who.actorId ?? 'alice' },
        requestId: randomUUID(),
      },
      signingKey,
      { audience: AUDIENCE },
    );
    return request(target.app)
      .post('/v1/accounts/acc-1/charges')
      .set('x-context-token', token)
      .set('idempotency-key', key)
      .send({ amount });
  }

  async function adminQuery<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    // The superuser bypasses row-level security: it sees every tenant's rows.
    const url = new URL(env.databaseAdminUrl);
    url.pathname = `/${db.name}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  const chargesOf = (tenantId: string) =>
    adminQuery<{ actor_id: string; amount: number }>(
      `SELECT actor_id, amount FROM charges WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );

  function gate(): { wait: Promise<void>; open: () => void } {
    let open!: () => void;
    const wait = new Promise<void>((resolve) => (open = resolve));
    return { wait, open };
  }

  let main: Replica;

  beforeAll(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, 'idem');
    await migrateServiceDatabase({
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [IdempotencyKeys1796500000000, CreateCharges1796500000001],
    });
    main = await replica();
  });

  beforeEach(() => {
    beforeWrite = async () => undefined;
    runs = 0;
  });

  afterAll(async () => {
    await Promise.all(dataSources.map((d) => d.destroy()));
    await db?.drop();
  });

  const newTenant = () => `t-${randomUUID()}`;

  it('keeps the keys under forced row-level security', async () => {
    expect(await tenantTablesWithoutRowLevelSecurityAt(db.appUrl)).toEqual([]);
  });

  it('answers a retry with the first response, marked as a replay, and runs the handler once', async () => {
    const tenantId = newTenant();
    const first = await charge(main, 'k-1', 100, { tenantId });
    const second = await charge(main, 'k-1', 100, { tenantId });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(second.body.idempotencyKey).toBe('k-1');
    expect(second.headers['location']).toBe(first.headers['location']);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    // The replay is its own exchange: it carries this request's id, not the first one's.
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(runs).toBe(1);
    expect(await chargesOf(tenantId)).toHaveLength(1);
  });

  it('refuses the same key with a different body (422) without running the handler', async () => {
    const tenantId = newTenant();
    expect((await charge(main, 'k-2', 100, { tenantId })).status).toBe(201);
    const reused = await charge(main, 'k-2', 200, { tenantId });
    expect(reused.status).toBe(422);
    expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reused.body.type).toMatch(/idempotency-key-reused$/);
    expect(runs).toBe(1);
    expect(await chargesOf(tenantId)).toEqual([{ actor_id: 'alice', amount: 100 }]);
  });

  it('answers a duplicate that arrives while the first is still running with 409 and Retry-After', async () => {
    const tenantId = newTenant();
    const first = gate();
    beforeWrite = () => first.wait;
    const pending = charge(main, 'k-3', 100, { tenantId });
    await waitFor('the first request to be running', () => runs === 1);
    const duplicate = await charge(main, 'k-3', 100, { tenantId });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.type).toMatch(/idempotent-request-in-progress$/);
    expect(Number(duplicate.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    first.open();
    const original = await pending;
    expect(original.status).toBe(201);
    const retried = await charge(main, 'k-3', 100, { tenantId });
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body).toEqual(original.body);
    expect(runs).toBe(1);
  });

  it('keeps one tenant’s key invisible to another tenant: the same key runs in both', async () => {
    const [a, b] = [newTenant(), newTenant()];
    const inA = await charge(main, 'shared-key', 100, { tenantId: a });
    const inB = await charge(main, 'shared-key', 100, { tenantId: b });
    expect(inB.status).toBe(201);
    expect(inB.headers['idempotent-replayed']).toBeUndefined();
    expect(inB.body.chargeId).not.toBe(inA.body.chargeId);
    expect(runs).toBe(2);
    expect(await chargesOf(a)).toHaveLength(1);
    expect(await chargesOf(b)).toHaveLength(1);
  });

  it('keeps actors of one tenant apart, by actor type as well as id', async () => {
    const tenantId = newTenant();
    const responses = [
      await charge(main, 'k-4', 100, { tenantId, actorId: 'alice' }),
      await charge(main, 'k-4', 100, { tenantId, actorId: 'bob' }),
      await charge(main, 'k-4', 100, { tenantId, actorId: 'alice', actorType: 'api_key' }),
    ];
    expect(responses.map((r) => [r.status, r.headers['idempotent-replayed']])).toEqual([
      [201, undefined],
      [201, undefined],
      [201, undefined],
    ]);
    expect(runs).toBe(3);
    expect((await chargesOf(tenantId)).map((r) => r.actor_id)).toEqual(['alice', 'bob', 'alice']);
  });

  it('forgets a key after its time to live, and prunes expired keys on a later write', async () => {
    const shortLived = await replica({ ttlMs: 1_000 });
    const tenantId = newTenant();
    expect((await charge(shortLived, 'old-key', 100, { tenantId })).status).toBe(201);
    expect((await charge(shortLived, 'old-key', 200, { tenantId })).status).toBe(422);
    const afterExpiry = await waitFor(
      'the key to expire',
      async () => {
        const response = await charge(shortLived, 'old-key', 200, { tenantId });
        return response.status === 201 ? response : undefined;
      },
      { intervalMs: 250, timeoutMs: 10_000 },
    );
    expect(afterExpiry.headers['idempotent-replayed']).toBeUndefined();
    expect(runs).toBe(2);
    expect((await chargesOf(tenantId)).map((r) => r.amount)).toEqual([100, 200]);

    await waitFor(
      'the second use to expire as well',
      async () =>
        (
          await adminQuery(
            `SELECT 1 FROM idempotency_keys WHERE tenant_id = $1 AND expires_at > now()`,
            [tenantId],
          )
        ).length === 0,
      { intervalMs: 250, timeoutMs: 10_000 },
    );
    expect((await charge(shortLived, 'another-key', 1, { tenantId })).status).toBe(201);
    const keys = await adminQuery<{ idempotency_key: string }>(
      `SELECT idempotency_key FROM idempotency_keys WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(keys).toEqual([{ idempotency_key: 'another-key' }]);
  });

  it('does not keep a 5xx: the retry runs the handler again and is then replayed', async () => {
    const tenantId = newTenant();
    beforeWrite = async (run) => {
      if (run === 1) throw new Error('database went away');
    };
    const failed = await charge(main, 'k-5', 100, { tenantId });
    expect(failed.status).toBe(500);
    const retried = await charge(main, 'k-5', 100, { tenantId });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const again = await charge(main, 'k-5', 100, { tenantId });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(runs).toBe(2);
    expect(await chargesOf(tenantId)).toHaveLength(1);
  });

  it('lets a retry take over the key of a request that outlived its lease', async () => {
    const leased = await replica({ leaseMs: 500 });
    const tenantId = newTenant();
    const stuck = gate();
    beforeWrite = async (run) => {
      if (run === 1) await stuck.wait;
    };
    const pending = charge(leased, 'k-6', 100, { tenantId });
    await waitFor('the first request to be running', () => runs === 1);
    const takeover = await waitFor(
      'the lease to run out',
      async () => {
        const response = await charge(leased, 'k-6', 100, { tenantId });
        return response.status === 201 ? response : undefined;
      },
      { intervalMs: 200, timeoutMs: 10_000 },
    );
    expect(takeover.headers['idempotent-replayed']).toBeUndefined();
    stuck.open();
    // The first still answers its client, but may no longer write the key's record.
    expect((await pending).status).toBe(201);
    expect(leased.logged).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/lease/) }),
    );
    const replayed = await charge(leased, 'k-6', 100, { tenantId });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(takeover.body);
  });

  it('runs the handler once when two replicas on one database race for the same key', async () => {
    const other = await replica();
    const tenantId = newTenant();
    beforeWrite = () => new Promise((resolve) => setTimeout(resolve, 150));
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        charge(i % 2 === 0 ? main : other, 'race', 100, { tenantId }),
      ),
    );
    expect(runs).toBe(1);
    expect(await chargesOf(tenantId)).toHaveLength(1);
    const fresh = responses.filter((r) => r.status === 201 && !r.headers['idempotent-replayed']);
    expect(fresh).toHaveLength(1);
    for (const r of responses) {
      expect([201, 409]).toContain(r.status);
      if (r.status === 201) expect(r.body).toEqual(fresh[0]?.body);
    }
  });
});
