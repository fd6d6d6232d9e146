import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { PASSWORD, inviteUser, signUpOwner } from '../support/tenant-users';

describe('the gateway’s permission step against the real authorization service', () => {
  // A long decision TTL: anything seen within a second below is the policy event, not expiry.
  const platform = new E2ePlatform({ decisionTtlMs: 60_000 });
  let api: string;

  beforeAll(async () => {
    await platform.start();
    api = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform.stop();
  });

  it('makes a policy change visible at the gateway within one second', async () => {
    const owner = await signUpOwner(api);
    const member = await inviteUser(api, owner, 'member');
    const role = `auditor-${randomUUID().slice(0, 8)}`;
    const created = await call(api, 'POST', '/v1/roles', {
      token: owner.accessToken,
      body: { name: role, permissions: ['audit:read', 'tenant:read'] },
    });
    expect(created.status).toBe(201);
    const assignment = `/v1/role-assignments/user/${member.userId}/roles/${role}`;
    expect((await call(api, 'PUT', assignment, { token: owner.accessToken })).status).toBe(200);
    await waitFor(
      'the member to read the audit log',
      async () =>
        (await call(api, 'GET', '/v1/audit-log?limit=1', { token: member.accessToken })).status ===
        200,
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    // Cached now (TTL 60 s): still allowed on the next request.
    expect(
      (await call(api, 'GET', '/v1/audit-log?limit=1', { token: member.accessToken })).status,
    ).toBe(200);

    // The change: the custom role loses audit:read.
    const changed = await call(api, 'PUT', `/v1/roles/${role}`, {
      token: owner.accessToken,
      body: { permissions: ['tenant:read'] },
    });
    expect(changed.status).toBe(200);
    const changedAt = performance.now();
    let refusedAfterMs = Number.POSITIVE_INFINITY;
    while (performance.now() - changedAt < 3_000) {
      const status = (
        await call(api, 'GET', '/v1/audit-log?limit=1', { token: member.accessToken })
      ).status;
      if (status === 403) {
        refusedAfterMs = performance.now() - changedAt;
        break;
      }
      expect(status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.stdout.write(
      `policy change visible at the gateway after ${refusedAfterMs.toFixed(0)} ms\n`,
    );
    expect(refusedAfterMs).toBeLessThan(1_000);

    // And back: an assignment removed through /v1/role-assignments is seen the same way.
    await call(api, 'PUT', `/v1/roles/${role}`, {
      token: owner.accessToken,
      body: { permissions: ['audit:read'] },
    });
    await waitFor(
      'the member to read the audit log again',
      async () =>
        (await call(api, 'GET', '/v1/audit-log?limit=1', { token: member.accessToken })).status ===
        200,
      { timeoutMs: 2_000, intervalMs: 20 },
    );
    expect((await call(api, 'DELETE', assignment, { token: owner.accessToken })).status).toBe(204);
    const revokedAt = performance.now();
    await waitFor(
      'the revoked assignment to be refused',
      async () =>
        (await call(api, 'GET', '/v1/audit-log?limit=1', { token: member.accessToken })).status ===
        403,
      { timeoutMs: 2_000, intervalMs: 10 },
    );
    const revokedAfterMs = performance.now() - revokedAt;
    process.stdout.write(`assignment revocation visible after ${revokedAfterMs.toFixed(0)} ms\n`);
    expect(revokedAfterMs).toBeLessThan(1_000);
  });

  it('lets a custom role reach identity’s routes: identity relies on the gateway’s verified permission', async () => {
    const owner = await signUpOwner(api);
    const viewer = await inviteUser(api, owner, 'viewer');
    // Viewers may not list API keys: refused at the gateway.
    expect((await call(api, 'GET', '/v1/api-keys', { token: viewer.accessToken })).status).toBe(
      403,
    );
    const role = `key-reader-${randomUUID().slice(0, 8)}`;
    expect(
      (
        await call(api, 'POST', '/v1/roles', {
          token: owner.accessToken,
          body: { name: role, permissions: ['api-keys:read'] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(api, 'PUT', `/v1/role-assignments/user/${viewer.userId}/roles/${role}`, {
          token: owner.accessToken,
        })
      ).status,
    ).toBe(200);
    // Identity's membership still says viewer; the gateway's verified grant is what counts.
    const listed = await waitFor(
      'the viewer with the custom role to list API keys',
      async () => {
        const response = await call(api, 'GET', '/v1/api-keys', { token: viewer.accessToken });
        return response.status === 200 ? response : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(listed.body).toHaveProperty('items');
    // Handing out roles still needs a manager's membership: no escalation through a custom role.
    expect(
      (
        await call(api, 'POST', '/v1/api-keys', {
          token: viewer.accessToken,
          body: { name: 'sneaky', role: 'admin' },
        })
      ).status,
    ).toBe(403);
  });

  it('refuses protected routes with 503 while authorization is down; public ones keep working', async () => {
    // Nothing of this owner is cached at the gateway yet (only `authenticated` calls so far).
    const owner = await signUpOwner(api);
    await platform.stopAuthorization();
    try {
      for (const [method, path, body] of [
        ['GET', '/v1/members', undefined],
        ['GET', '/v1/api-keys', undefined],
        ['POST', '/v1/invitations', { email: `x-${randomUUID()}@example.test`, role: 'viewer' }],
        ['GET', '/v1/roles', undefined],
      ] as const) {
        const response = await call(api, method, path, { token: owner.accessToken, body });
        expect([method, path, response.status]).toEqual([method, path, 503]);
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(response.headers.get('retry-after')).toBeTruthy();
      }
      // Public operations need no decision.
      const email = `later-${randomUUID()}@example.test`;
      const signup = await call(api, 'POST', '/v1/signup', {
        body: { tenantName: 'Down Co', email, password: PASSWORD, displayName: 'D' },
      });
      expect(signup.status).toBe(201);
      const login = await call(api, 'POST', '/v1/auth/token', {
        body: { email, password: PASSWORD },
      });
      expect(login.status).toBe(200);
    } finally {
      await platform.startAuthorization();
    }
    await waitFor(
      'protected routes to be served again',
      async () =>
        (await call(api, 'GET', '/v1/members', { token: owner.accessToken })).status === 200,
      { timeoutMs: 15_000 },
    );
    expect((await call(api, 'GET', '/v1/roles', { token: owner.accessToken })).status).toBe(200);
  });
});
