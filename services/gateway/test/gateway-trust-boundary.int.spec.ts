import request from 'supertest';
import type { EchoedRequest } from './support/fake-identity';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: the trust boundary', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    await harness.start();
  });

  afterAll(async () => {
    await harness.stop();
  });

  const forged = (victim: string): Record<string, string> => ({
    'x-tenant-id': victim,
    'X-Actor-Type': 'operator',
    'x-actor-id': 'mallory',
    'x-context-token': 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ2aWN0aW0ifQ.',
    'x-request-id': 'chosen-by-client',
    'x-correlation-id': 'chosen-by-client',
    'x-tenant-plan': 'enterprise',
    'x-actor-roles': 'owner',
    'x-context-anything': 'x',
    traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
  });

  it('serves forged tenant, actor and context headers for the token’s tenant only', async () => {
    const user = await harness.identity.newUser();
    const victim = await harness.identity.newUser();
    const response = await request(harness.url)
      .post(`/v1/members?tenantId=${victim.tenantId}&tid=${victim.tenantId}`)
      .set(forged(victim.tenantId))
      .set('authorization', `Bearer ${user.token}`)
      .send({ tenantId: victim.tenantId, nested: { tenant_id: victim.tenantId }, name: 'x' });
    expect(response.status).toBe(200);
    const echoed = response.body as EchoedRequest;
    const requestId = response.headers['x-request-id'];
    expect(requestId).not.toBe('chosen-by-client');
    expect(echoed.context).toEqual({
      tenantId: user.tenantId,
      actor: { type: 'user', id: user.userId },
      requestId,
    });
    expect(echoed.headers).toMatchObject({
      'x-tenant-id': user.tenantId,
      'x-actor-type': 'user',
      'x-actor-id': user.userId,
      'x-request-id': requestId,
    });
    for (const name of [
      'x-correlation-id',
      'x-tenant-plan',
      'x-actor-roles',
      'x-context-anything',
    ]) {
      expect(echoed.headers[name]).toBeUndefined();
    }
    expect(echoed.headers.traceparent).not.toBe(forged('').traceparent);
    // Query and body travel unchanged; only the signed context says which tenant acts.
    expect(echoed.url).toBe(`/v1/members?tenantId=${victim.tenantId}&tid=${victim.tenantId}`);
    expect(echoed.body).toEqual({
      tenantId: victim.tenantId,
      nested: { tenant_id: victim.tenantId },
      name: 'x',
    });
  });

  it('signs context tokens for the owning service only', async () => {
    const user = await harness.identity.newUser();
    const response = await request(harness.url)
      .get('/v1/me')
      .set('authorization', `Bearer ${user.token}`);
    const echoed = response.body as EchoedRequest;
    // The fake verifies with audience `identity`; it would fail for a token meant for billing.
    expect(echoed.contextError).toBeNull();
    expect(echoed.context?.tenantId).toBe(user.tenantId);
  });

  it('forwards public routes without any context, still stripping what the client sent', async () => {
    const victim = await harness.identity.newUser();
    const signup = await request(harness.url)
      .post('/v1/signup')
      .set(forged(victim.tenantId))
      .send({ email: 'a@example.com' });
    expect(signup.status).toBe(200);
    const echoed = signup.body as EchoedRequest;
    expect(echoed.context).toBeNull();
    for (const name of ['x-tenant-id', 'x-actor-type', 'x-actor-id', 'x-context-token']) {
      expect(echoed.headers[name]).toBeUndefined();
    }
    expect(echoed.headers['x-request-id']).toBe(signup.headers['x-request-id']);
    expect(echoed.body).toEqual({ email: 'a@example.com' });

    const accept = await request(harness.url).post('/v1/invitations/accept');
    expect(accept.status).toBe(200);
    const jwks = await request(harness.url).get('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
  });

  it('takes public operations from the services’ OpenAPI documents', async () => {
    // Declared `x-permission: public` only in the fake identity's document, not in the contract.
    const branding = await request(harness.url).get('/v1/tenants/acme/branding');
    expect(branding.status).toBe(200);
    expect((branding.body as EchoedRequest).context).toBeNull();
    // Same prefix, not declared public: needs a credential.
    expect((await request(harness.url).get('/v1/tenants/acme')).status).toBe(401);
    // A document may not open paths the route table does not give its service.
    expect((await request(harness.url).get('/v1/billing/invoices')).status).not.toBe(200);
  });

  it('never routes internal or unknown paths, nor paths an upstream could re-normalise', async () => {
    const user = await harness.identity.newUser();
    const auth = { authorization: `Bearer ${user.token}` };
    const echoedBefore = harness.identity.echoed;
    const internal = await request(harness.url)
      .post('/internal/v1/api-keys/verify')
      .set(auth)
      .send({ key: 'x' });
    expect(internal.status).toBe(404);
    expect(internal.headers['content-type']).toMatch(/^application\/problem\+json/);
    for (const path of [
      '/v1/me/../internal/v1/api-keys/verify',
      '/v1/me/%2e%2e/internal/v1/api-keys/verify',
      '/v1/me%2F..%2Finternal',
    ]) {
      const response = await harness.rawRequest('GET', path, auth);
      expect(response.status).toBe(400);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
    }
    expect(harness.identity.echoed).toBe(echoedBefore);
  });

  it('serves health probes without credentials, and metrics only on the metrics port', async () => {
    expect((await request(harness.url).get('/healthz')).status).toBe(200);
    const ready = await request(harness.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({
      database: { status: 'ok' },
      redis: { status: 'ok' },
    });
    // The client-facing port has no /metrics: what the platform measures is not the clients' to read.
    const publicMetrics = await request(harness.url).get('/metrics');
    expect(publicMetrics.status).toBe(404);
    expect(publicMetrics.text).not.toMatch(/http_requests_total/);
    const metrics = await request(harness.metricsUrl).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/http_requests_total\{[^}]*route="\/v1\/me"/);
    expect((await request(harness.metricsUrl).get('/v1/me')).status).toBe(404);
  });
});
