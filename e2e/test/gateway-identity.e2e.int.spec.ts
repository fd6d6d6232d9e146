import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { waitForRole } from '../support/tenant-users';

interface Session {
  tenantId: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
}

const PASSWORD = 'correct horse battery staple';

describe('the platform through its gateway (real identity, real gateway, real stack)', () => {
  const platform = new E2ePlatform();
  let api: string;

  beforeAll(async () => {
    await platform.start();
    api = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform.stop();
  });

  async function signUp(
    name = `Acme ${randomUUID().slice(0, 8)}`,
  ): Promise<Session & { email: string }> {
    const email = `owner-${randomUUID()}@example.test`;
    const signup = await call(api, 'POST', '/v1/signup', {
      body: { tenantName: name, email, password: PASSWORD, displayName: 'Owner' },
    });
    expect(signup.status).toBe(201);
    const login = await call(api, 'POST', '/v1/auth/token', {
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    // Authorization makes the creator owner from identity's event; the gateway asks it.
    await waitForRole(api, String(login.body.accessToken), 'owner');
    return {
      email,
      tenantId: String(signup.body.tenantId),
      userId: String(signup.body.userId),
      accessToken: String(login.body.accessToken),
      refreshToken: String(login.body.refreshToken),
    };
  }

  it('signs up, logs in, refreshes with rotation, and logs out', async () => {
    const owner = await signUp();
    const me = await call(api, 'GET', '/v1/me', { token: owner.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: owner.tenantId, id: owner.userId, role: 'owner' });

    const refreshed = await call(api, 'POST', '/v1/auth/refresh', {
      body: { refreshToken: owner.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(owner.refreshToken);
    // The spent refresh token is refused (and revokes its family).
    expect(
      (await call(api, 'POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } }))
        .status,
    ).toBe(401);

    const again = await call(api, 'POST', '/v1/auth/token', {
      body: { email: owner.email, password: PASSWORD },
    });
    const logout = await call(api, 'POST', '/v1/auth/logout', {
      body: { refreshToken: again.body.refreshToken },
    });
    expect(logout.status).toBe(204);
    expect(
      (
        await call(api, 'POST', '/v1/auth/refresh', {
          body: { refreshToken: again.body.refreshToken },
        })
      ).status,
    ).toBe(401);
  });

  it('invites a colleague who accepts, works within the role, and is removed', async () => {
    const owner = await signUp();
    const email = `bob-${randomUUID()}@example.test`;
    const invitation = await call(api, 'POST', '/v1/invitations', {
      token: owner.accessToken,
      body: { email, role: 'member' },
    });
    expect(invitation.status).toBe(201);
    const accepted = await call(api, 'POST', '/v1/invitations/accept', {
      body: { token: invitation.body.token, password: PASSWORD, displayName: 'Bob' },
    });
    expect(accepted.status).toBe(201);
    // Single use.
    expect(
      (
        await call(api, 'POST', '/v1/invitations/accept', {
          body: { token: invitation.body.token, password: PASSWORD },
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);

    const bob = await call(api, 'POST', '/v1/auth/token', { body: { email, password: PASSWORD } });
    expect(bob.status).toBe(200);
    const bobToken = String(bob.body.accessToken);
    await waitForRole(api, bobToken, 'member');
    const members = await call<{ items: { email: string }[] }>(api, 'GET', '/v1/members', {
      token: bobToken,
    });
    expect(members.status).toBe(200);
    expect(members.body.items.map((m) => m.email)).toEqual(
      expect.arrayContaining([owner.email, email]),
    );
    // A member cannot invite.
    expect(
      (
        await call(api, 'POST', '/v1/invitations', {
          token: bobToken,
          body: { email: `eve-${randomUUID()}@example.test`, role: 'admin' },
        })
      ).status,
    ).toBe(403);

    const bobId = String(bob.body.accessToken).split('.')[1];
    const bobSub = JSON.parse(Buffer.from(bobId as string, 'base64url').toString()).sub as string;
    expect(
      (await call(api, 'DELETE', `/v1/members/${bobSub}`, { token: owner.accessToken })).status,
    ).toBe(204);
    expect(
      (
        await call(api, 'POST', '/v1/auth/refresh', {
          body: { refreshToken: bob.body.refreshToken },
        })
      ).status,
    ).toBe(401);
  });

  it('issues an API key that works through the gateway until it is revoked', async () => {
    const owner = await signUp();
    const created = await call(api, 'POST', '/v1/api-keys', {
      token: owner.accessToken,
      body: { name: 'ci', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    const key = String(created.body.key);
    expect(key).toMatch(/^tnt_[0-9a-f]{12}_/);

    const asKey = await call(api, 'GET', '/v1/me', { token: key });
    expect(asKey.status).toBe(200);
    expect(asKey.body).toMatchObject({ tenantId: owner.tenantId, actorType: 'api_key' });
    const viaHeader = await call(api, 'GET', '/v1/me', { headers: { 'x-api-key': key } });
    expect(viaHeader.status).toBe(200);

    const listed = await call<{ items: Record<string, unknown>[] }>(api, 'GET', '/v1/api-keys', {
      token: owner.accessToken,
    });
    expect(JSON.stringify(listed.body)).not.toContain(key.split('_')[2]);

    expect(
      (
        await call(api, 'DELETE', `/v1/api-keys/${created.body.apiKeyId}`, {
          token: owner.accessToken,
        })
      ).status,
    ).toBe(204);
    await waitFor(
      'the revoked key to be refused',
      async () => (await call(api, 'GET', '/v1/me', { token: key })).status === 401,
      { timeoutMs: 10_000 },
    );
  });

  it('ignores forged tenant, actor and context headers, and services refuse calls that skip it', async () => {
    const victim = await signUp();
    const attacker = await signUp();
    const me = await call(api, 'GET', '/v1/me', {
      token: attacker.accessToken,
      headers: {
        'x-tenant-id': victim.tenantId,
        'x-actor-type': 'operator',
        'x-actor-id': victim.userId,
        'x-context-token': 'forged',
      },
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: attacker.tenantId, id: attacker.userId });

    const direct = await call(platform.identity.url, 'GET', '/v1/me', {
      token: victim.accessToken,
      headers: {
        'x-tenant-id': victim.tenantId,
        'x-actor-type': 'user',
        'x-actor-id': victim.userId,
      },
    });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('answers 404 to a tenant reaching for another tenant’s objects by id, changing nothing', async () => {
    const a = await signUp();
    const b = await signUp();
    const bInvitation = await call(api, 'POST', '/v1/invitations', {
      token: b.accessToken,
      body: { email: `carol-${randomUUID()}@example.test`, role: 'viewer' },
    });
    const bKey = await call(api, 'POST', '/v1/api-keys', {
      token: b.accessToken,
      body: { name: 'b-key', role: 'viewer' },
    });
    for (const [method, path] of [
      ['GET', `/v1/invitations/${bInvitation.body.invitationId}`],
      ['DELETE', `/v1/invitations/${bInvitation.body.invitationId}`],
      ['GET', `/v1/api-keys/${bKey.body.apiKeyId}`],
      ['DELETE', `/v1/api-keys/${bKey.body.apiKeyId}`],
      ['GET', `/v1/members/${b.userId}`],
      ['DELETE', `/v1/members/${b.userId}`],
    ] as const) {
      const response = await call(api, method, path, { token: a.accessToken });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    expect((await call(api, 'GET', '/v1/me', { token: String(bKey.body.key) })).status).toBe(200);
    const bInvitations = await call(
      api,
      'GET',
      `/v1/invitations/${bInvitation.body.invitationId}`,
      {
        token: b.accessToken,
      },
    );
    expect(bInvitations.body).toMatchObject({ status: 'pending' });
  });

  it('refuses a suspended tenant with 403 until an operator resumes it', async () => {
    const tenant = await signUp();
    const operatorEmail = `ops-${randomUUID()}@tenantry.test`;
    await platform.createOperator(operatorEmail, PASSWORD);
    const operator = await call(api, 'POST', '/v1/operators/token', {
      body: { email: operatorEmail, password: PASSWORD },
    });
    expect(operator.status).toBe(200);
    const operatorToken = String(operator.body.accessToken);

    const suspended = await call(api, 'POST', `/v1/platform/tenants/${tenant.tenantId}/suspend`, {
      token: operatorToken,
      body: { reason: 'unpaid invoices' },
    });
    expect(suspended.status).toBe(200);
    await waitFor(
      'the suspension to reach the gateway',
      async () => (await call(api, 'GET', '/v1/me', { token: tenant.accessToken })).status === 403,
      { timeoutMs: 10_000 },
    );
    const login = await call(api, 'POST', '/v1/auth/token', {
      body: { email: tenant.email, password: PASSWORD },
    });
    expect(login.status).toBe(403);

    expect(
      (
        await call(api, 'POST', `/v1/platform/tenants/${tenant.tenantId}/resume`, {
          token: operatorToken,
          body: {},
        })
      ).status,
    ).toBe(200);
    await waitFor(
      'the tenant to be served again',
      async () => (await call(api, 'GET', '/v1/me', { token: tenant.accessToken })).status === 200,
      { timeoutMs: 10_000 },
    );
    // A tenant user cannot reach platform routes.
    expect(
      (
        await call(api, 'POST', `/v1/platform/tenants/${tenant.tenantId}/suspend`, {
          token: tenant.accessToken,
          body: {},
        })
      ).status,
    ).toBe(403);
  });

  it('refuses tampered and unsigned tokens with 401', async () => {
    const owner = await signUp();
    const other = await signUp();
    const [header, payload, signature] = owner.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = Buffer.from(JSON.stringify({ ...claims, tid: other.tenantId })).toString(
      'base64url',
    );
    expect(
      (await call(api, 'GET', '/v1/me', { token: `${header}.${tampered}.${signature}` })).status,
    ).toBe(401);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect((await call(api, 'GET', '/v1/me', { token: `${none}.${payload}.` })).status).toBe(401);
    expect((await call(api, 'GET', '/v1/me')).status).toBe(401);
  });

  it('answers bad input with 4xx problem+json, never 5xx', async () => {
    const owner = await signUp();
    const cases = [
      await call(api, 'POST', '/v1/signup', { rawBody: '{"tenantName":' }),
      await call(api, 'POST', '/v1/signup', {
        body: { tenantName: 42, email: [], password: null },
      }),
      await call(api, 'POST', '/v1/signup', {
        body: {
          tenantName: 'X',
          email: 'x@example.test',
          password: PASSWORD,
          displayName: 'X',
          isAdmin: true,
        },
      }),
      await call(api, 'POST', '/v1/invitations', {
        token: owner.accessToken,
        body: { email: 'not-an-email', role: 'owner' },
      }),
      await call(api, 'POST', '/v1/api-keys', {
        token: owner.accessToken,
        rawBody: JSON.stringify({ name: 'x'.repeat(300_000), role: 'viewer' }),
      }),
      await call(api, 'POST', '/v1/auth/token', {
        rawBody: 'email=a&password=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ];
    for (const response of cases) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(cases[4]?.status).toBe(413);
  });
});
