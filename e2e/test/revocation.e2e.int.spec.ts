import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { ServiceProcess, freePort } from '../support/service-process';
import type { TenantSession } from '../support/tenant-users';
import { PASSWORD, signUpOwner } from '../support/tenant-users';

/** The window the API documents for revoked keys and ended sessions. */
const REVOCATION_WINDOW_MS = 1_000;

/**
 * Polls every route until each answers 401 (or `giveUpMs` passed) and answers how long after
 * `since` each one did, so a failure still reports what was measured.
 */
async function msUntilRefused(
  api: string,
  credential: string,
  paths: readonly string[],
  since: number,
  giveUpMs = 5_000,
): Promise<Record<string, number | undefined>> {
  // Every path is a key, so a route never refused fails the assertion instead of escaping it.
  const refusedAt: Record<string, number | undefined> = Object.fromEntries(
    paths.map((path) => [path, undefined]),
  );
  const deadline = since + giveUpMs;
  await Promise.all(
    paths.map(async (path) => {
      while (Date.now() < deadline) {
        const { status } = await call(api, 'GET', path, { token: credential });
        if (status === 401) {
          refusedAt[path] = Date.now() - since;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }),
  );
  return refusedAt;
}

function expectAllWithinWindow(latencies: Record<string, number | undefined>): void {
  expect(Object.keys(latencies).length).toBeGreaterThan(0);
  for (const [path, ms] of Object.entries(latencies)) {
    expect({ path, refusedWithinWindow: ms !== undefined && ms < REVOCATION_WINDOW_MS }).toEqual({
      path,
      refusedWithinWindow: true,
    });
  }
}

async function logIn(api: string, email: string): Promise<{ access: string; refresh: string }> {
  const login = await call(api, 'POST', '/v1/auth/token', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { access: String(login.body.accessToken), refresh: String(login.body.refreshToken) };
}

describe('revocation through the gateway (real identity, authorization, gateway and stack)', () => {
  // Answers cached far longer than the window: only the revocation event can explain a 401.
  const platform = new E2ePlatform({ apiKeyCacheMs: 60_000, decisionTtlMs: 60_000 });
  let api: string;
  let owner: TenantSession;

  beforeAll(async () => {
    await platform.start();
    api = platform.gatewayUrl;
    owner = await signUpOwner(api);
  });

  afterAll(async () => {
    await platform.stop();
  });

  it('refuses a revoked API key on identity and authorization routes within 1 s', async () => {
    const routes = [
      '/v1/me',
      '/v1/api-keys',
      '/v1/me/permissions',
      '/v1/roles',
      '/v1/authz/permission-catalogue',
    ];
    // Two keys, revoked one after the other: the first revocation also pays one-time costs.
    for (const attempt of ['first', 'second']) {
      const created = await call(api, 'POST', '/v1/api-keys', {
        token: owner.accessToken,
        body: { name: `revoke-me-${attempt}`, role: 'admin' },
      });
      expect(created.status).toBe(201);
      const key = String(created.body.key);
      // Every route class answers (authorization learns the key's role from identity's event),
      // so the key's verification and decisions are cached.
      for (const path of routes) {
        await waitFor(
          `${path} to answer the new key`,
          async () => (await call(api, 'GET', path, { token: key })).status === 200,
          { timeoutMs: 15_000, intervalMs: 50 },
        );
      }

      const revoked = await call(api, 'DELETE', `/v1/api-keys/${created.body.apiKeyId}`, {
        token: owner.accessToken,
      });
      expect(revoked.status).toBe(204);
      const latencies = await msUntilRefused(api, key, routes, Date.now());
      console.log(
        `API key revocation (${attempt} key): ms from the 204 to 401 per route ` +
          JSON.stringify(latencies, (_key, ms: unknown) => ms ?? null),
      );
      expectAllWithinWindow(latencies);
      // And it stays refused (no in-flight answer brought it back).
      for (const path of routes) {
        expect((await call(api, 'GET', path, { token: key })).status).toBe(401);
      }
    }
  });

  describe('logout', () => {
    let ended: { access: string; refresh: string };
    let other: { access: string; refresh: string };

    beforeAll(async () => {
      ended = await logIn(api, owner.email);
      other = await logIn(api, owner.email);
    });

    it('ends the session’s access token at the gateway within 1 s, and only that session', async () => {
      const routes = ['/v1/me', '/v1/me/permissions'];
      for (const path of routes) {
        expect((await call(api, 'GET', path, { token: ended.access })).status).toBe(200);
      }

      const logout = await call(api, 'POST', '/v1/auth/logout', {
        body: { refreshToken: ended.refresh },
      });
      expect(logout.status).toBe(204);
      const latencies = await msUntilRefused(api, ended.access, routes, Date.now());
      console.log(
        `logout: ms from the 204 to 401 per route ${JSON.stringify(latencies, (_key, ms: unknown) => ms ?? null)}`,
      );
      expectAllWithinWindow(latencies);

      const refresh = await call(api, 'POST', '/v1/auth/refresh', {
        body: { refreshToken: ended.refresh },
      });
      expect(refresh.status).toBe(401);
      // Another session of the same user is untouched.
      for (const path of routes) {
        expect((await call(api, 'GET', path, { token: other.access })).status).toBe(200);
      }
    });

    it('is known to a gateway replica that starts after it', async () => {
      const env = testStackEnv();
      const database: TestDatabase = await createTestDatabase(env.databaseAdminUrl, 'e2e_gateway');
      const [port, metricsPort] = [await freePort(), await freePort()];
      const late = new ServiceProcess(
        'gateway-late',
        'services/gateway/src/main.ts',
        {
          KAFKA_BROKERS: env.kafkaBrokers.join(','),
          SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          ...platform.contextKeys.gatewayEnv,
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          HOST: '127.0.0.1',
          GATEWAY_DATABASE_URL: database.appUrl,
          GATEWAY_DATABASE_OWNER_URL: database.ownerUrl,
          IDENTITY_URL: platform.identity.url,
          AUTHORIZATION_URL: platform.authorization.url,
        },
        `http://127.0.0.1:${port}`,
      );
      try {
        await late.start();
        // Its first answer already refuses the session that ended before it started.
        expect((await call(late.url, 'GET', '/v1/me', { token: ended.access })).status).toBe(401);
        expect((await call(late.url, 'GET', '/v1/me', { token: other.access })).status).toBe(200);
      } finally {
        await late.stop();
        await database.drop();
      }
    });
  });

  it('ends the whole session when a spent refresh token is presented again', async () => {
    const session = await logIn(api, owner.email);
    const rotated = await call(api, 'POST', '/v1/auth/refresh', {
      body: { refreshToken: session.refresh },
    });
    expect(rotated.status).toBe(200);
    const newAccess = String(rotated.body.accessToken);
    expect((await call(api, 'GET', '/v1/me', { token: newAccess })).status).toBe(200);

    const reused = await call(api, 'POST', '/v1/auth/refresh', {
      body: { refreshToken: session.refresh },
    });
    expect(reused.status).toBe(401);
    const latencies = await msUntilRefused(api, newAccess, ['/v1/me'], Date.now());
    expectAllWithinWindow(latencies);
    expect((await call(api, 'GET', '/v1/me', { token: session.access })).status).toBe(401);
  });
});
