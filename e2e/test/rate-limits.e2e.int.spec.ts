import { randomUUID } from 'node:crypto';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';

const PASSWORD = 'correct horse battery staple';

describe('per-tenant rate limits at the gateway', () => {
  const platform = new E2ePlatform({ rateLimitRps: 2, rateLimitBurst: 10 });

  beforeAll(async () => {
    await platform.start();
  });

  afterAll(async () => {
    await platform.stop();
  });

  async function tokenOfNewTenant(): Promise<string> {
    const email = `owner-${randomUUID()}@example.test`;
    await call(platform.gatewayUrl, 'POST', '/v1/signup', {
      body: {
        tenantName: `T ${randomUUID().slice(0, 6)}`,
        email,
        password: PASSWORD,
        displayName: 'O',
      },
    });
    const login = await call(platform.gatewayUrl, 'POST', '/v1/auth/token', {
      body: { email, password: PASSWORD },
    });
    return String(login.body.accessToken);
  }

  it('gives a flooding tenant 429 with Retry-After while another tenant is served', async () => {
    const flooder = await tokenOfNewTenant();
    const neighbour = await tokenOfNewTenant();
    const flood = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(platform.gatewayUrl, 'GET', '/v1/me', { token: flooder }),
      ),
    );
    const limited = flood.filter((response) => response.status === 429);
    // Burst 10 plus what refills at 2/s while 30 requests are in flight on a busy machine.
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(limited[0]?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited[0]?.headers.get('content-type')).toMatch(/problem\+json/);
    expect(flood.find((r) => r.status === 200)?.headers.get('ratelimit-limit')).toBeTruthy();

    const neighbourCalls = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(platform.gatewayUrl, 'GET', '/v1/me', { token: neighbour }),
      ),
    );
    expect(neighbourCalls.map((r) => r.status)).toEqual(Array(8).fill(200));
  });
});
