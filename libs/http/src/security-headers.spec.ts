import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { securityHeaders } from './security-headers';

function appWith(middleware: express.RequestHandler): express.Express {
  const app = express();
  app.use(middleware);
  app.get('/thing', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

/** The headers a response carries, without the ones that differ per response. */
function stableHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, etag: _etag, ...rest } = headers;
  return rest;
}

describe('securityHeaders', () => {
  it('sets exactly the headers helmet() sets, and removes what it removes', async () => {
    const viaHelmet = await request(appWith(helmet())).get('/thing');
    const precomputed = await request(appWith(securityHeaders())).get('/thing');

    expect(stableHeaders(precomputed.headers)).toEqual(stableHeaders(viaHelmet.headers));
    expect(precomputed.headers['content-security-policy']).toContain("default-src 'self'");
    expect(precomputed.headers['x-powered-by']).toBeUndefined();
  });

  it('leaves headers a later handler sets to that handler', async () => {
    const app = express();
    app.use(securityHeaders());
    app.get('/framed', (_req, res) => {
      res.setHeader('x-frame-options', 'DENY');
      res.end();
    });
    const response = await request(app).get('/framed');
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});
