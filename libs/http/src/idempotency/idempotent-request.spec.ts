import express from 'express';
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { runWithTenantContext } from '@tenantry/tenancy';
import { ApiRoutes } from '../api-routes';
import { errorHandler } from '../error-handler';
import { conflict } from '../problem-details';
import type {
  ClaimOutcome,
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredResponse,
} from './idempotency-store';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };

/** The store's contract without a database; the PostgreSQL store has integration tests. */
class MemoryStore implements IdempotencyStore {
  readonly rows = new Map<
    string,
    { fingerprint: string; token: string; response?: StoredResponse }
  >();
  private next = 0;

  async claim(scope: IdempotencyScope, fingerprint: string): Promise<ClaimOutcome> {
    const id = JSON.stringify(scope);
    const row = this.rows.get(id);
    if (!row) {
      const token = String(this.next++);
      this.rows.set(id, { fingerprint, token });
      return { kind: 'claimed', claim: { scope, token } };
    }
    if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (!row.response) return { kind: 'in-progress', retryAfterSeconds: 1 };
    return { kind: 'replay', response: row.response };
  }

  async complete(claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    const row = this.rows.get(JSON.stringify(claim.scope));
    if (row?.token !== claim.token) return false;
    row.response = response;
    return true;
  }

  async release(claim: IdempotencyClaim): Promise<void> {
    const id = JSON.stringify(claim.scope);
    if (this.rows.get(id)?.token === claim.token) this.rows.delete(id);
  }
}

function buildApp(store: IdempotencyStore, respond: (n: number) => number) {
  let runs = 0;
  const keys: (string | undefined)[] = [];
  const routes = new ApiRoutes({ title: 'things', version: '1' }, { idempotencyStore: store })
    .add(
      {
        method: 'post',
        path: '/v1/things/:thingId/charges',
        summary: 'Charge',
        permission: 'things:write',
        idempotency: 'required',
        params: z.strictObject({ thingId: z.string() }),
        body: z.strictObject({ amount: z.number().int() }),
        responses: {
          201: { description: 'Charged', schema: z.object({ run: z.number() }) },
          409: { description: 'The thing is locked' },
        },
      },
      async ({ body, idempotencyKey }, _req, res) => {
        runs += 1;
        keys.push(idempotencyKey);
        const status = respond(runs);
        if (status === 409) throw conflict('locked');
        if (status >= 500) throw new Error('boom');
        res.status(status).setHeader('location', `/v1/charges/${runs}`);
        res.json({ run: runs, amount: body.amount });
      },
    )
    .add(
      {
        method: 'put',
        path: '/v1/notes/:id',
        summary: 'Put a note',
        permission: 'things:write',
        idempotency: 'optional',
        body: z.strictObject({ text: z.string() }),
        responses: { 204: { description: 'Stored' } },
      },
      async (_input, _req, res) => {
        runs += 1;
        res.status(204).end();
      },
    );
  const app: Express = express();
  app.use(express.json());
  app.use((_req, _res, next) =>
    runWithTenantContext(
      { tenantId: 't1', actor: { type: 'user', id: 'u1' }, requestId: 'r' },
      () => next(),
    ),
  );
  routes.mount(app);
  app.use(errorHandler({ logger: quiet }));
  return { app, routes, runs: () => runs, keys };
}

const charge = (app: Express, key: string | undefined, amount = 5) => {
  const req = request(app).post('/v1/things/a/charges');
  return (key === undefined ? req : req.set('Idempotency-Key', key)).send({ amount });
};

describe('ApiRoutes with idempotency', () => {
  it('replays the stored status, headers and body once the first request completed', async () => {
    const { app, runs, keys } = buildApp(new MemoryStore(), () => 201);
    const first = await charge(app, 'k1');
    const second = await charge(app, 'k1');
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['location']).toBe(first.headers['location']);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.body).toEqual(first.body);
    expect(runs()).toBe(1);
    expect(keys).toEqual(['k1']);
  });

  it('refuses a missing key on a required route, a malformed key anywhere, a reused key', async () => {
    const { app, runs } = buildApp(new MemoryStore(), () => 201);
    const missing = await charge(app, undefined);
    expect(missing.status).toBe(400);
    expect(missing.body.type).toMatch(/idempotency-key-required$/);
    const malformed = await charge(app, 'has space');
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toMatch(/invalid-idempotency-key$/);
    expect(
      (await request(app).put('/v1/notes/1').set('Idempotency-Key', '').send({ text: 'x' })).status,
    ).toBe(400);
    expect((await request(app).put('/v1/notes/1').send({ text: 'x' })).status).toBe(204);
    expect((await charge(app, 'k2', 1)).status).toBe(201);
    const reused = await charge(app, 'k2', 2);
    expect(reused.status).toBe(422);
    expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(runs()).toBe(2);
  });

  it('stores a final 4xx, but releases the key after a 5xx or a 409', async () => {
    const statuses = [500, 409, 404];
    const store = new MemoryStore();
    const { app, runs } = buildApp(store, (n) => statuses[n - 1] ?? 201);
    expect((await charge(app, 'k')).status).toBe(500);
    expect(store.rows.size).toBe(0);
    expect((await charge(app, 'k')).status).toBe(409);
    expect(store.rows.size).toBe(0);
    expect((await charge(app, 'k')).status).toBe(404);
    const replayed = await charge(app, 'k');
    expect(replayed.status).toBe(404);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(runs()).toBe(3);
  });

  it('documents the header, the 409 and 422 problems and the replay header', () => {
    const { routes } = buildApp(new MemoryStore(), () => 201);
    const doc = routes.openApi() as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const op = doc.paths['/v1/things/{thingId}/charges']?.['post'] as {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, { description: string; content?: unknown; headers?: unknown }>;
      'x-idempotency': string;
    };
    expect(op['x-idempotency']).toBe('required');
    expect(op.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
    );
    expect(op.responses['409']?.description).toMatch(/^The thing is locked; or: .*still running/);
    expect(op.responses['422']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect(op.responses['400']?.description).toMatch(/Idempotency-Key/);
    expect(op.responses['201']?.headers).toHaveProperty('idempotent-replayed');
    const optional = doc.paths['/v1/notes/{id}']?.['put'] as {
      parameters: { name: string; required: boolean }[];
    };
    expect(optional.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', required: false }),
    );
  });

  it('refuses to declare an idempotent route without a store, or on a public route', () => {
    const declare = (routes: ApiRoutes, permission: 'public' | 'x:y') =>
      routes.add(
        {
          method: 'post',
          path: '/x',
          summary: 'x',
          permission,
          idempotency: 'optional',
          responses: {},
        },
        async () => undefined,
      );
    expect(() => declare(new ApiRoutes({ title: 't', version: '1' }), 'x:y')).toThrow(
      /no idempotencyStore/,
    );
    expect(() =>
      declare(
        new ApiRoutes({ title: 't', version: '1' }, { idempotencyStore: new MemoryStore() }),
        'public',
      ),
    ).toThrow(/public/);
  });
});
