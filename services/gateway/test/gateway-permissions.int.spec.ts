import request from 'supertest';
import { FakeAuthorization } from './support/fake-authorization';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: coarse route permissions decided by authorization', () => {
  const harness = new GatewayHarness();
  const authorization = new FakeAuthorization(harness.contextKey);

  beforeAll(async () => {
    await authorization.start();
    await harness.start({
      AUTHZ_ENFORCEMENT: 'on',
      AUTHORIZATION_URL: authorization.url,
      AUTHZ_TIMEOUT_MS: '300',
      AUTHZ_DECISION_TTL_MS: '60000',
      // A service that is down while the gateway starts: its document (and permissions) unknown.
      BILLING_URL: 'http://127.0.0.1:9',
    });
  });

  afterAll(async () => {
    await harness.stop();
    await authorization.stop();
  });

  const get = (path: string, token: string) =>
    request(harness.url).get(path).set('authorization', `Bearer ${token}`);

  it('forwards when authorization allows, asking as the gateway’s service actor, then caches', async () => {
    const user = await harness.identity.newUser();
    authorization.grant(user.tenantId, `user:${user.userId}`, 'members:read');
    const before = authorization.checks.length;
    const response = await get('/v1/members/m-1', user.token);
    expect(response.status).toBe(200);
    const asked = authorization.checks.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.request).toEqual({
      tenantId: user.tenantId,
      subject: { type: 'user', id: user.userId },
      permissions: ['members:read'],
    });
    expect(asked[0]?.context?.actor).toEqual({ type: 'service', id: 'gateway' });

    expect((await get('/v1/members/m-2', user.token)).status).toBe(200);
    expect(authorization.checks.length).toBe(before + 1);

    // The decision latency an SRE reads: the call, then the cache hit, each observed.
    const scrape = (await request(harness.metricsUrl).get('/metrics')).text;
    const count = (cached: string): number =>
      Number(
        new RegExp(
          `gateway_permission_check_duration_seconds_count\\{[^}]*outcome="allowed",cached="${cached}"[^}]*\\} (\\d+)`,
        ).exec(scrape)?.[1] ?? 0,
      );
    expect(count('false')).toBeGreaterThanOrEqual(1);
    expect(count('true')).toBeGreaterThanOrEqual(1);
  });

  it('refuses with 403 when authorization says no, without forwarding', async () => {
    const user = await harness.identity.newUser();
    const echoed = harness.identity.echoed;
    const response = await get('/v1/members/m-1', user.token);
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(harness.identity.echoed).toBe(echoed);
  });

  it('drops a tenant’s cached decisions at once when told its policy changed', async () => {
    const user = await harness.identity.newUser();
    const other = await harness.identity.newUser();
    authorization.grant(user.tenantId, `user:${user.userId}`, 'members:read');
    authorization.grant(other.tenantId, `user:${other.userId}`, 'members:read');
    expect((await get('/v1/members/m', user.token)).status).toBe(200);
    expect((await get('/v1/members/m', other.token)).status).toBe(200);
    authorization.revokeAll(user.tenantId, `user:${user.userId}`);
    authorization.revokeAll(other.tenantId, `user:${other.userId}`);
    // Cached: still allowed until the policy-changed event drops the tenant's decisions.
    expect((await get('/v1/members/m', user.token)).status).toBe(200);
    expect(harness.service.decisions?.invalidateTenant(user.tenantId)).toBe(1);
    expect((await get('/v1/members/m', user.token)).status).toBe(403);
    // Other tenants keep theirs.
    expect((await get('/v1/members/m', other.token)).status).toBe(200);
  });

  it.each(['error', 'slow'] as const)(
    'answers 503 (never allows) when authorization is %s',
    async (mode) => {
      const user = await harness.identity.newUser();
      authorization.grant(user.tenantId, `user:${user.userId}`, 'members:read');
      authorization.mode = mode;
      try {
        const echoed = harness.identity.echoed;
        const response = await get('/v1/members/m', user.token);
        expect(response.status).toBe(503);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.headers['retry-after']).toBeDefined();
        expect(harness.identity.echoed).toBe(echoed);
      } finally {
        authorization.mode = 'ok';
      }
      // Failures are not cached: the next request asks again.
      expect((await get('/v1/members/m', user.token)).status).toBe(200);
    },
  );

  it('answers 503 when authorization is unreachable', async () => {
    const down = new GatewayHarness();
    await down.start({ AUTHZ_ENFORCEMENT: 'on', AUTHORIZATION_URL: 'http://127.0.0.1:9' });
    try {
      const user = await down.identity.newUser();
      expect(
        (await request(down.url).get('/v1/members/m').set('authorization', `Bearer ${user.token}`))
          .status,
      ).toBe(503);
      // `authenticated` operations need no decision.
      expect(
        (await request(down.url).get('/v1/me').set('authorization', `Bearer ${user.token}`)).status,
      ).toBe(200);
    } finally {
      await down.stop();
    }
  });

  it('lets any authenticated actor through `authenticated` operations without asking', async () => {
    const user = await harness.identity.newUser();
    const before = authorization.checks.length;
    expect((await get('/v1/me', user.token)).status).toBe(200);
    expect(authorization.checks.length).toBe(before);
  });

  it('answers 503 on a route whose service has not published its document, and says why', async () => {
    const user = await harness.identity.newUser();
    const before = authorization.checks.length;
    const response = await get('/v1/billing/subscription', user.token);
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    // Not authorization's fault: nobody asked it, and the metric says which case it was.
    expect(authorization.checks.length).toBe(before);
    const scrape = (await request(harness.metricsUrl).get('/metrics')).text;
    expect(scrape).toMatch(
      /gateway_permission_checks_total\{[^}]*outcome="document_missing"[^}]*\} [1-9]/,
    );
  });

  it('refuses a protected operation no document declares, without forwarding it', async () => {
    const user = await harness.identity.newUser();
    const echoed = harness.identity.echoed;
    expect((await get('/v1/members', user.token)).status).toBe(403);
    expect(harness.identity.echoed).toBe(echoed);
  });

  it('asks about API keys as api_key subjects', async () => {
    const user = await harness.identity.newUser();
    const { key, apiKeyId } = harness.identity.newApiKey(user.tenantId);
    authorization.grant(user.tenantId, `api_key:${apiKeyId}`, 'roles:read');
    const response = await request(harness.url).get('/v1/roles').set('x-api-key', key);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ served: 'authorization' });
  });

  it('leaves /v1/platform to identity for operators and refuses it to tenant actors', async () => {
    const operator = await harness.identity.accessToken({ act: 'operator', sub: 'op-1' });
    const before = authorization.checks.length;
    expect((await get('/v1/platform/tenants/x', operator)).status).toBe(200);
    const user = await harness.identity.newUser();
    expect((await get('/v1/platform/tenants/x', user.token)).status).toBe(403);
    expect(authorization.checks.length).toBe(before);
    // Operators hold no tenant roles: tenant permissions are refused to them.
    expect((await get('/v1/members/m', operator)).status).toBe(403);
  });
});
