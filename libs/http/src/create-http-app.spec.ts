import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import {
  currentTenantContext,
  generateContextTokenKeyPair,
  signContextToken,
} from '@tenantry/tenancy';
import type { ContextTokenSigningKey, TenantContext } from '@tenantry/tenancy';
import { createHttpApp } from './create-http-app';
import type { CreateHttpAppOptions } from './create-http-app';
import type { HttpLogger } from './http-logger';
import { conflict } from './problem-details';
import { validateBody, validateQuery } from './validate-request';

// The gateway's current and previous key pairs: tokens are signed with the private halves, the
// app verifies with the public ones.
const currentPair = generateContextTokenKeyPair();
const previousPair = generateContextTokenKeyPair();
const current = currentPair.signingKey;
const previous = previousPair.signingKey;

const context: TenantContext = {
  tenantId: 'tenant-a',
  actor: { type: 'user', id: 'user-1' },
  requestId: 'req-1',
};

function spyLogger(): jest.Mocked<HttpLogger> {
  return { error: jest.fn(), warn: jest.fn(), info: jest.fn() };
}

const createThing = validateBody(
  z.strictObject({ name: z.string().min(1), tags: z.array(z.string()).optional() }),
);
const listThings = validateQuery(z.strictObject({ limit: z.coerce.number().int().max(100) }));

function buildApp(overrides: Partial<CreateHttpAppOptions> = {}): Express {
  return createHttpApp({
    serviceName: 'things',
    logger: spyLogger(),
    contextKeys: [currentPair.verificationKey],
    bodyLimit: '1kb',
    configure: (app) => {
      app.get('/whoami', async (_req, res) => {
        // An await between entry and the read: the context must survive it.
        await new Promise((resolve) => setImmediate(resolve));
        res.json(currentTenantContext() ?? null);
      });
      app.post('/things', createThing, (req, res) => {
        const thing = createThing.value(req);
        res.status(201).json({ ...thing, tenantId: currentTenantContext()?.tenantId });
      });
      app.get('/things', listThings, (req, res) => {
        res.json({ limit: listThings.value(req).limit });
      });
      app.get('/metrics', (_req, res) => {
        res.type('text/plain').send('# metrics');
      });
      app.post('/conflict', () => {
        throw conflict('The name is taken.', { field: 'name' });
      });
      app.get('/boom', async () => {
        throw new Error('database password is hunter2');
      });
    },
    ...overrides,
  });
}

async function tokenFor(
  ctx: TenantContext = context,
  key: ContextTokenSigningKey = current,
): Promise<Record<string, string>> {
  return { 'x-context-token': await signContextToken(ctx, key, { audience: 'things' }) };
}

function expectProblem(res: request.Response, status: number, slug: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, type: `https://tenantry.dev/problems/${slug}` });
  expect(res.body.instance).toEqual(expect.any(String));
}

describe('createHttpApp: the signed context', () => {
  it('refuses a request without a context token', async () => {
    const res = await request(buildApp()).get('/whoami');
    expectProblem(res, 401, 'unauthorized');
    expect(res.body.requestId).toEqual(res.headers['x-request-id']);
  });

  it('refuses plain tenant headers without a token, however plausible', async () => {
    const res = await request(buildApp())
      .get('/whoami')
      .set({ 'x-tenant-id': 'tenant-a', 'x-actor-type': 'user', 'x-actor-id': 'user-1' });
    expectProblem(res, 401, 'unauthorized');
  });

  it('refuses a forged x-tenant-id that disagrees with the token', async () => {
    const logger = spyLogger();
    const res = await request(buildApp({ logger }))
      .get('/whoami')
      .set({ ...(await tokenFor()), 'x-tenant-id': 'tenant-b' });
    expectProblem(res, 401, 'unauthorized');
    expect(logger.warn).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({ reason: 'header x-tenant-id disagrees with the token' }),
    );
  });

  it('runs the handler inside the verified context', async () => {
    const res = await request(buildApp())
      .get('/whoami')
      .set({
        ...(await tokenFor()),
        'x-tenant-id': 'tenant-a',
        'x-actor-type': 'user',
        'x-actor-id': 'user-1',
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(context);
    expect(res.headers['x-request-id']).toBe('req-1');
  });

  it('keeps the context across body parsing', async () => {
    const res = await request(buildApp())
      .post('/things')
      .set(await tokenFor())
      .send({ name: 'widget' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'widget', tenantId: 'tenant-a' });
  });

  it('accepts a token from a rotated-out key only while that key is listed', async () => {
    const headers = await tokenFor(context, previous);
    const withPrevious = await request(
      buildApp({
        contextKeys: [currentPair.verificationKey, previousPair.verificationKey],
      }),
    )
      .get('/whoami')
      .set(headers);
    expect(withPrevious.status).toBe(200);
    expect(withPrevious.body.tenantId).toBe('tenant-a');

    const removed = await request(buildApp({ contextKeys: [currentPair.verificationKey] }))
      .get('/whoami')
      .set(headers);
    expectProblem(removed, 401, 'unauthorized');
  });

  it('refuses a token signed with any private key but the gateway’s', async () => {
    const stranger = generateContextTokenKeyPair().signingKey;
    for (const key of [stranger, { kid: current.kid, privateKey: stranger.privateKey }]) {
      const res = await request(buildApp())
        .get('/whoami')
        .set(await tokenFor(context, key));
      expectProblem(res, 401, 'unauthorized');
    }
  });

  it('refuses a token issued for another service, or for none', async () => {
    for (const options of [{ audience: 'billing' }, {}]) {
      const token = await signContextToken(context, current, options);
      const res = await request(buildApp()).get('/whoami').set('x-context-token', token);
      expectProblem(res, 401, 'unauthorized');
    }
  });

  it('refuses an expired token', async () => {
    jest.useFakeTimers({ now: Date.now() - 120_000, doNotFake: ['nextTick', 'queueMicrotask'] });
    const token = await signContextToken(context, current, { ttlSeconds: 60, audience: 'things' });
    jest.useRealTimers();
    const res = await request(buildApp()).get('/whoami').set('x-context-token', token);
    expectProblem(res, 401, 'unauthorized');
  });

  it('serves health and metrics without a context', async () => {
    const app = buildApp();
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok', service: 'things' });
    expect((await request(app).get('/readyz')).status).toBe(200);
    expect((await request(app).get('/metrics')).text).toBe('# metrics');
  });
});

describe('createHttpApp: errors as problem details', () => {
  it('turns malformed JSON into a 400 problem', async () => {
    const res = await request(buildApp())
      .post('/things')
      .set(await tokenFor())
      .set('content-type', 'application/json')
      .send('{"name": ');
    expectProblem(res, 400, 'malformed-body');
  });

  it('turns an oversize body into a 413 problem', async () => {
    const res = await request(buildApp())
      .post('/things')
      .set(await tokenFor())
      .send({ name: 'x'.repeat(2048) });
    expectProblem(res, 413, 'payload-too-large');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await request(buildApp())
      .post('/things')
      .set(await tokenFor())
      .set('content-type', 'text/plain')
      .send('name=widget');
    expectProblem(res, 415, 'unsupported-media-type');
  });

  it('lists unknown and invalid fields in a 400 problem', async () => {
    const res = await request(buildApp())
      .post('/things')
      .set(await tokenFor())
      .send({ name: '', tenantId: 'tenant-b' });
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'tenantId', message: 'Unknown field' },
        { path: 'name', message: expect.any(String) },
      ]),
    );
    expect(res.body.errors).toHaveLength(2);
  });

  it('validates and coerces the query', async () => {
    const headers = await tokenFor();
    const ok = await request(buildApp()).get('/things?limit=10').set(headers);
    expect(ok.body).toEqual({ limit: 10 });
    const bad = await request(buildApp()).get('/things?limit=1000&sort=name').set(headers);
    expectProblem(bad, 400, 'validation-failed');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['limit', 'sort']);
  });

  it('sends a thrown HttpProblem as it is, with its extensions', async () => {
    const res = await request(buildApp())
      .post('/conflict')
      .set(await tokenFor());
    expectProblem(res, 409, 'conflict');
    expect(res.body).toMatchObject({
      detail: 'The name is taken.',
      field: 'name',
      instance: '/conflict',
    });
  });

  it('hides an unknown error behind a generic 500 and logs it', async () => {
    const logger = spyLogger();
    const res = await request(buildApp({ logger }))
      .get('/boom?x=1')
      .set(await tokenFor());
    expectProblem(res, 500, 'internal');
    expect(res.text).not.toMatch(/hunter2|Error|at /);
    expect(res.body).toEqual({
      type: 'https://tenantry.dev/problems/internal',
      title: 'Internal server error',
      status: 500,
      instance: '/boom',
      requestId: 'req-1',
    });
    expect(logger.error).toHaveBeenCalledWith(
      'request failed',
      expect.objectContaining({
        requestId: 'req-1',
        error: expect.objectContaining({ message: 'database password is hunter2' }),
      }),
    );
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await request(buildApp())
      .get('/nowhere')
      .set(await tokenFor());
    expectProblem(res, 404, 'not-found');
  });

  it('hardens the response headers', async () => {
    const res = await request(buildApp()).get('/healthz');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('createHttpApp: readiness', () => {
  it('reports every check when all pass', async () => {
    const app = buildApp({
      readinessChecks: { database: async () => undefined, kafka: async () => undefined },
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, kafka: { status: 'ok' } },
    });
  });

  it('answers 503 listing failing and timed-out checks, without their error texts', async () => {
    const app = buildApp({
      readinessTimeoutMs: 50,
      readinessChecks: {
        database: async () => undefined,
        kafka: async () => {
          throw new Error('broker 10.0.0.7:9092 refused');
        },
        registry: (signal) =>
          new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined))),
      },
    });
    const res = await request(app).get('/readyz');
    expectProblem(res, 503, 'not-ready');
    expect(res.body.failing).toEqual(['kafka', 'registry']);
    expect(res.body.checks).toMatchObject({
      database: { status: 'ok' },
      kafka: { status: 'fail', failure: 'error' },
      registry: { status: 'fail', failure: 'timeout' },
    });
    expect(res.text).not.toContain('10.0.0.7');
  });
});
