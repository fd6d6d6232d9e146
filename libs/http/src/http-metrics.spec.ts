import request from 'supertest';
import { createMetrics } from '@tenantry/observability';
import { generateContextTokenKeyPair, signContextToken } from '@tenantry/tenancy';
import { createHttpApp } from './create-http-app';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };

describe('http metrics', () => {
  it('counts requests by route pattern, status and tenant class, and serves them at /metrics', async () => {
    const { signingKey, verificationKey } = generateContextTokenKeyPair();
    const metrics = createMetrics('things');
    const app = createHttpApp({
      serviceName: 'things',
      logger: quiet,
      contextKeys: [verificationKey],
      metrics,
      configure(app) {
        app.get('/v1/things/:thingId', (_req, res) => {
          res.json({ ok: true });
        });
      },
    });
    const token = await signContextToken(
      { tenantId: 't1', actor: { type: 'user', id: 'u1' }, requestId: 'r1' },
      signingKey,
      { audience: 'things' },
    );
    await request(app).get('/v1/things/42').set('x-context-token', token).expect(200);
    await request(app).get('/v1/things/43').set('x-context-token', token).expect(200);
    await request(app).get('/v1/nothing').set('x-context-token', token).expect(404);
    // Refused by the signed-context check: counted, as no tenant.
    await request(app).get('/v1/things/44').expect(401);
    await request(app).get('/v1/things/45').set('x-context-token', 'forged').expect(401);

    const scrape = await request(app).get('/metrics').expect(200);
    expect(scrape.text).toMatch(
      /http_requests_total\{[^}]*route="\/v1\/things\/:thingId"[^}]*status="200"[^}]*tenant_class="tenant"[^}]*\} 2/,
    );
    expect(scrape.text).toMatch(/http_requests_total\{[^}]*route="unmatched"[^}]*status="404"/);
    expect(scrape.text).toMatch(
      /http_requests_total\{[^}]*route="unmatched"[^}]*status="401"[^}]*tenant_class="anonymous"[^}]*\} 2/,
    );
    // Scrapes and probes are not requests of the service.
    expect(scrape.text).not.toMatch(/route="\/metrics"/);
    expect(scrape.text).not.toContain('/v1/things/42');
    // The tenant by id: one of the busiest (here the only one).
    expect(scrape.text).toMatch(
      /http_tenant_requests_total\{tenant="t1",route="\/v1\/things\/:thingId",status="200"[^}]*\} 2/,
    );
  });
});
