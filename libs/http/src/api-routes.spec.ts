import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { ApiRoutes } from './api-routes';
import { errorHandler } from './error-handler';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };

function buildRoutes(): ApiRoutes {
  return new ApiRoutes({ title: 'things', version: '1' })
    .add(
      {
        method: 'post',
        path: '/v1/things/:thingId/parts',
        summary: 'Add a part',
        permission: 'things:write',
        params: z.strictObject({ thingId: z.uuid() }),
        body: z.strictObject({ name: z.string().min(1), count: z.number().int().default(1) }),
        responses: {
          201: { description: 'Added', schema: z.object({ id: z.string() }) },
          404: { description: 'No such thing' },
        },
      },
      async ({ params, body }, _req, res) => {
        res.status(201).json({ id: `${params.thingId}/${body.name}/${body.count}` });
      },
    )
    .add(
      {
        method: 'delete',
        path: '/v1/labels/:label',
        summary: 'Remove a label (no params schema: the shared guard still applies)',
        permission: 'things:write',
        responses: { 204: { description: 'Removed' } },
      },
      async (_input, _req, res) => {
        res.status(204).end();
      },
    )
    .add(
      {
        method: 'get',
        path: '/v1/status',
        summary: 'Status',
        permission: 'public',
        responses: { 200: { description: 'Up' } },
      },
      async (_input, _req, res) => {
        res.json({ ok: true });
      },
    );
}

describe('ApiRoutes', () => {
  const routes = buildRoutes();
  const app = express();
  app.use(express.json());
  routes.mount(app);
  app.use(errorHandler({ logger: quiet }));

  it('validates params and body and hands the handler typed input', async () => {
    const id = '6f1c1f4e-8d1a-4b43-9a43-0b0f5d2b7a10';
    const ok = await request(app).post(`/v1/things/${id}/parts`).send({ name: 'wheel' });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ id: `${id}/wheel/1` });
    const badParam = await request(app).post('/v1/things/not-a-uuid/parts').send({ name: 'x' });
    expect(badParam.status).toBe(400);
    const unknownField = await request(app)
      .post(`/v1/things/${id}/parts`)
      .send({ name: 'x', admin: true });
    expect(unknownField.status).toBe(400);
  });

  it('describes itself as OpenAPI 3.1 with permissions, and lists its public paths', () => {
    const doc = routes.openApi() as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const op = doc.paths['/v1/things/{thingId}/parts']?.post;
    expect(op?.['x-permission']).toBe('things:write');
    expect(op?.parameters).toEqual([
      expect.objectContaining({ name: 'thingId', in: 'path', required: true }),
    ]);
    expect(JSON.stringify(op?.requestBody)).toContain('"additionalProperties":false');
    expect(routes.publicRoutes()).toEqual([{ method: 'get', path: '/v1/status' }]);
    expect(routes.summaries()).toContainEqual({
      method: 'post',
      path: '/v1/things/:thingId/parts',
      permission: 'things:write',
    });
  });

  it.each(['%zz', '%', '%e0%80%af', '%ed%a0%80', '%00', 'a%00b'])(
    'answers a path parameter %s with a 400 problem, with or without a params schema',
    async (raw) => {
      for (const path of [`/v1/things/${raw}/parts`, `/v1/labels/${raw}`]) {
        const method = path.startsWith('/v1/things') ? 'post' : 'delete';
        const res = await request(app)[method](path).send({ name: 'x' });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    },
  );

  it('still decodes well-formed path parameters', async () => {
    const res = await request(app).delete('/v1/labels/caf%C3%A9');
    expect(res.status).toBe(204);
  });
});
