import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Express } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { ApiRoutes } from './api-routes';
import { createHttpApp } from './create-http-app';
import { MAX_JSON_DEPTH } from './request-text';

const quiet = { error: jest.fn(), warn: jest.fn(), info: jest.fn() };

/** An app as the gateway builds it (no context check), so each request reaches the parser. */
function buildApp(): Express {
  const routes = new ApiRoutes({ title: 'roles', version: '1' }).add(
    {
      method: 'put',
      path: '/v1/roles/:roleId',
      summary: 'Replace a role',
      permission: 'roles:write',
      params: z.strictObject({ roleId: z.string().min(1) }),
      body: z.strictObject({ name: z.string(), extra: z.unknown().optional() }),
      responses: { 200: { description: 'Replaced' } },
    },
    async ({ params, body }, _req, res) => {
      res.json({ roleId: params.roleId, name: body.name });
    },
  );
  return createHttpApp({
    serviceName: 'roles',
    logger: quiet,
    contextKeys: false,
    configure: (app) => {
      routes.mount(app);
      // Re-serialises what was parsed, like the gateway's pipeline does.
      app.post('/echo', (req, res) => {
        res.json({ length: JSON.stringify(req.body).length });
      });
    },
  });
}

function expectProblem(res: request.Response, status: number, slug: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, type: `https://tenantry.dev/problems/${slug}` });
}

/** Sends bytes as they are (supertest would serialise a Buffer sent as JSON). */
async function sendBytes(
  app: Express,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/v1/roles/r1',
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    server.close();
  }
}

const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonBody: nesting', () => {
  it.each([
    ['/echo', 'post', 6_000],
    ['/echo', 'post', 40_000],
    ['/v1/roles/r1', 'put', 6_000],
  ] as const)(
    'refuses JSON on %s %s nested %i levels deep with 400',
    async (path, method, depth) => {
      const res = await request(buildApp())
        [method](path)
        .set('content-type', 'application/json')
        .send(`{"name":"x","extra":${deepArray(depth)}}`);
      expectProblem(res, 400, 'too-deeply-nested');
    },
  );

  it(`accepts ${MAX_JSON_DEPTH} levels`, async () => {
    const res = await request(buildApp())
      .post('/echo')
      .set('content-type', 'application/json')
      .send(deepArray(MAX_JSON_DEPTH));
    expect(res.status).toBe(200);
  });
});

describe('jsonBody: text no database can store', () => {
  it.each([
    ['NUL in a value', '{"name":"a\\u0000b"}'],
    ['a lone high surrogate', '{"name":"a\\ud800"}'],
    ['a lone low surrogate', '{"name":"\\udfffz"}'],
    ['NUL in a key', '{"name":"x","extra":{"k\\u0000":1}}'],
    ['NUL deep in an array', '{"name":"x","extra":[[1,["\\u0000"]]]}'],
  ])('refuses %s with 400', async (_name, body) => {
    const res = await request(buildApp())
      .put('/v1/roles/r1')
      .set('content-type', 'application/json')
      .send(body);
    expectProblem(res, 400, 'validation-failed');
    expect(res.body.errors).toEqual([{ path: expect.any(String), message: expect.any(String) }]);
  });

  it('keeps valid surrogate pairs and other Unicode', async () => {
    const res = await request(buildApp())
      .put('/v1/roles/r1')
      .send({ name: 'Zoë \ud83d\ude00 日本' });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Zoë \ud83d\ude00 日本');
  });

  it.each(['/echo?q=a%00b', '/v1/roles/r1?q=%00'])(
    'refuses NUL in the query (%s)',
    async (path) => {
      const res = await request(buildApp()).post(path).send({ name: 'x' });
      expectProblem(res, 400, 'validation-failed');
    },
  );
});

describe('jsonBody: content encodings', () => {
  it.each(['gzip', 'deflate', 'br'])(
    'refuses a body that is not %s but says so with 400',
    async (encoding) => {
      const res = await request(buildApp())
        .put('/v1/roles/r1')
        .set('content-type', 'application/json')
        .set('content-encoding', encoding)
        .send('{"name":"x"}');
      expectProblem(res, 400, 'bad-request');
    },
  );

  it('refuses a truncated gzip body with 400', async () => {
    const gzipped = gzipSync(Buffer.from('{"name":"x"}'));
    const res = await sendBytes(
      buildApp(),
      { 'content-encoding': 'gzip' },
      gzipped.subarray(0, gzipped.length - 6),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'https://tenantry.dev/problems/bad-request' });
  });

  it('still reads a real gzip body', async () => {
    const res = await sendBytes(
      buildApp(),
      { 'content-encoding': 'gzip' },
      gzipSync(Buffer.from('{"name":"x"}')),
    );
    expect(res).toEqual({ status: 200, body: { roleId: 'r1', name: 'x' } });
  });

  it('refuses an unknown content encoding with 415', async () => {
    const res = await request(buildApp())
      .put('/v1/roles/r1')
      .set('content-type', 'application/json')
      .set('content-encoding', 'x-snappy')
      .send('{"name":"x"}');
    expectProblem(res, 415, 'unsupported-media-type');
  });
});

describe('path parameters', () => {
  it.each(['%zz', '%', '%e0%80%af', '%ed%a0%80', '%00', 'a%00b'])(
    'refuses /v1/roles/%s with 400',
    async (raw) => {
      const res = await request(buildApp()).put(`/v1/roles/${raw}`).send({ name: 'x' });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    },
  );
});
