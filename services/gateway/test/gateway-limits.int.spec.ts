import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: limits and upstream failures', () => {
  const harness = new GatewayHarness();
  const noisyTenant = `t-noisy-${randomUUID()}`;

  beforeAll(async () => {
    await harness.start({
      // The noisy tenant gets a tiny bucket; everyone else the (generous) default.
      RATE_LIMIT_TENANT_OVERRIDES: JSON.stringify({
        [noisyTenant]: { ratePerSecond: 1, burst: 5 },
      }),
      // Nothing listens here: routes owned by billing cannot be reached.
      BILLING_URL: 'http://127.0.0.1:9',
    });
  });

  afterAll(async () => {
    await harness.stop();
  });

  it('limits one flooding tenant with 429 while another tenant is served', async () => {
    harness.identity.tenantStatus.set(noisyTenant, 'active');
    const noisy = await harness.identity.accessToken({ sub: 'u-noisy', tid: noisyTenant });
    const quiet = await harness.identity.newUser();
    const flood = Array.from({ length: 30 }, () =>
      request(harness.url).get('/v1/me').set('authorization', `Bearer ${noisy}`),
    );
    const calm = Array.from({ length: 10 }, () =>
      request(harness.url).get('/v1/me').set('authorization', `Bearer ${quiet.token}`),
    );
    const [flooded, served] = await Promise.all([Promise.all(flood), Promise.all(calm)]);

    const ok = flooded.filter((r) => r.status === 200);
    const limited = flooded.filter((r) => r.status === 429);
    // Burst 5 plus whatever refilled (1/s) while the flood was in flight on a busy machine.
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(12);
    expect(limited.length).toBe(30 - ok.length);
    const refusal = limited[0]!;
    expect(refusal.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refusal.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refusal.headers['ratelimit-limit']).toBe('5');
    expect(refusal.headers['ratelimit-remaining']).toBe('0');
    expect(refusal.headers['ratelimit-policy']).toMatch(/^5;w=5/);

    expect(served.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(Number(served[0]!.headers['ratelimit-remaining'])).toBeGreaterThan(50);

    // What the noisy-tenant alert reads: the refusals by limiter, and by this tenant's name.
    const scrape = (await request(harness.metricsUrl).get('/metrics')).text;
    const counted = (pattern: string): number =>
      Number(new RegExp(`${pattern}[^}]*\\} (\\d+)`).exec(scrape)?.[1] ?? 0);
    expect(counted('gateway_rate_limited_total\\{limit="tenant"')).toBe(limited.length);
    expect(counted(`gateway_tenant_rate_limited_total\\{tenant="${noisyTenant}"`)).toBe(
      limited.length,
    );
  });

  it('answers malformed, oversize and non-JSON bodies with 4xx problems, never 5xx', async () => {
    const user = await harness.identity.newUser();
    const auth = { authorization: `Bearer ${user.token}` };
    const cases = [
      { body: '{"name": ', type: 'application/json', status: 400 },
      { body: JSON.stringify({ blob: 'x'.repeat(10_000) }), type: 'application/json', status: 413 },
      { body: 'name=x', type: 'application/x-www-form-urlencoded', status: 415 },
    ];
    for (const { body, type, status } of cases) {
      for (const path of ['/v1/members', '/v1/signup']) {
        const response = await request(harness.url)
          .post(path)
          .set(path === '/v1/members' ? auth : {})
          .set('content-type', type)
          .send(body);
        expect({ path, type, status: response.status }).toEqual({ path, type, status });
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('maps upstream timeouts to 504 and unreachable or broken upstreams to 502, leaking nothing', async () => {
    const user = await harness.identity.newUser();
    const auth = { authorization: `Bearer ${user.token}` };
    const slow = await request(harness.url).get('/v1/me/slow').set(auth);
    expect(slow.status).toBe(504);
    expect(slow.headers['content-type']).toMatch(/^application\/problem\+json/);

    const crash = await request(harness.url).get('/v1/me/crash').set(auth);
    expect(crash.status).toBe(502);

    const unreachable = await request(harness.url).get('/v1/billing/invoices').set(auth);
    expect(unreachable.status).toBe(502);
    expect(JSON.stringify(unreachable.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|:9\b/);
    expect(Object.keys(unreachable.body).sort()).toEqual(
      ['detail', 'instance', 'requestId', 'status', 'title', 'type'].sort(),
    );

    // A 5xx that is not a problem document (a crash page, a stack trace) never reaches the client.
    const failed = await request(harness.url).get('/v1/me/fail').set(auth);
    expect(failed.status).toBe(502);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(failed.text).not.toContain('secret.ts');
  });
});
