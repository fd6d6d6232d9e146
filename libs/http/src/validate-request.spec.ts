import express from 'express';
import request from 'supertest';
import { z } from 'zod';
import { errorHandler } from './error-handler';
import { validateBody, validateParams, validateQuery } from './validate-request';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };

/** Plain express, without createHttpApp's guards: the validators refuse on their own. */
function buildApp(): express.Express {
  const params = validateParams(z.strictObject({ name: z.string() }));
  const query = validateQuery(z.strictObject({ q: z.string().optional() }));
  const body = validateBody(z.strictObject({ name: z.string() }));
  const app = express();
  app.use(express.json());
  app.put('/things/:name', params, query, body, (req, res) => {
    res.json({ name: params.value(req).name, body: body.value(req).name });
  });
  app.use(errorHandler({ logger: quiet }));
  return app;
}

describe('validate-request: text no database can store', () => {
  it.each([
    ['a NUL path parameter', '/things/a%00b', '{"name":"x"}'],
    ['a NUL query value', '/things/a?q=%00', '{"name":"x"}'],
    ['a NUL body string', '/things/a', '{"name":"x\\u0000"}'],
    ['a lone surrogate in the body', '/things/a', '{"name":"\\ud800"}'],
  ])('refuses %s with a 400 problem before the schema accepts it', async (_name, path, json) => {
    const res = await request(buildApp())
      .put(path)
      .set('content-type', 'application/json')
      .send(json);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'https://tenantry.dev/problems/validation-failed' });
  });

  it('accepts ordinary text', async () => {
    const res = await request(buildApp()).put('/things/caf%C3%A9?q=ok').send({ name: 'Zoë' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'café', body: 'Zoë' });
  });
});
