import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: sign-up, tokens, refresh, logout', () => {
  const h = new IdentityTestHarness();

  beforeAll(async () => {
    await h.setUp({ LOGIN_FAILURES_PER_ACCOUNT: '3' });
  });
  afterAll(() => h.tearDown());

  async function verify(accessToken: string) {
    const jwks = (await h.http.get('/.well-known/jwks.json')).body as JSONWebKeySet;
    return jwtVerify(accessToken, createLocalJWKSet(jwks), {
      issuer: 'tenantry-identity',
      audience: 'tenantry-api',
      algorithms: ['ES256'],
    });
  }

  it('signs up a tenant with its owner and publishes both events through the outbox', async () => {
    const tenant = await h.signUp({ tenantName: 'Globex Corporation' });
    expect(tenant.tenantSlug).toMatch(/^globex-corporation/);

    const created = await h.outbox(tenant.tenantId, 'identity.tenant.created');
    expect(created).toHaveLength(1);
    expect(created[0]!.headers).toMatchObject({
      ce_tenantid: tenant.tenantId,
      ce_actortype: 'user',
      ce_actorid: tenant.userId,
    });
    expect(await h.payloadOf(created[0]!)).toMatchObject({
      tenantId: tenant.tenantId,
      ownerUserId: tenant.userId,
      ownerEmail: tenant.email,
      name: 'Globex Corporation',
    });
    const registered = await h.outbox(tenant.tenantId, 'identity.user.registered');
    expect(await h.payloadOf(registered[0]!)).toMatchObject({
      userId: tenant.userId,
      email: tenant.email,
      tenantId: tenant.tenantId,
    });
    const added = await h.outbox(tenant.tenantId, 'identity.membership.added');
    expect(await h.payloadOf(added[0]!)).toMatchObject({ userId: tenant.userId, role: 'owner' });

    const me = await h.asUser(tenant, tenant.userId, h.http.get('/v1/me'));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ actorType: 'user', role: 'owner', email: tenant.email });
  });

  it('issues an ES256 access token the JWKS verifies, with the agreed claims', async () => {
    const tenant = await h.signUp();
    const tokens = await h.logIn(tenant.email.toUpperCase(), tenant.password);
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      tenantId: tenant.tenantId,
    });
    const { payload, protectedHeader } = await verify(tokens.accessToken);
    expect(protectedHeader).toMatchObject({ alg: 'ES256' });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: tenant.userId,
      tid: tenant.tenantId,
      act: 'user',
      iss: 'tenantry-identity',
      aud: 'tenantry-api',
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.jti).toEqual(expect.any(String));
    expect(tokens.refreshToken).toMatch(/^rt_/);
  });

  it('answers unknown user and wrong password with the same 401', async () => {
    const tenant = await h.signUp();
    const wrong = await h.http
      .post('/v1/auth/token')
      .send({ email: tenant.email, password: 'not the password' });
    const unknown = await h.http
      .post('/v1/auth/token')
      .send({ email: `nobody-${randomUUID()}@example.com`, password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
  });

  it('rate-limits failed logins per account, even for the right password', async () => {
    const tenant = await h.signUp();
    for (let i = 0; i < 3; i += 1) {
      const failed = await h.http
        .post('/v1/auth/token')
        .send({ email: tenant.email, password: `guess-${i}` });
      expect(failed.status).toBe(401);
    }
    const limited = await h.http
      .post('/v1/auth/token')
      .send({ email: tenant.email, password: tenant.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rotates refresh tokens, and reuse of a spent one revokes the whole session', async () => {
    const tenant = await h.signUp();
    const first = await h.logIn(tenant.email, tenant.password);
    const second = await h.http.post('/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    await verify(second.body.accessToken);

    // The first token is spent: presenting it again is treated as theft.
    const replay = await h.http.post('/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    const afterTheft = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: second.body.refreshToken });
    expect(afterTheft.status).toBe(401);

    // Another session of the same user is untouched.
    const other = await h.logIn(tenant.email, tenant.password);
    const stillFine = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: other.refreshToken });
    expect(stillFine.status).toBe(200);
  });

  it('logs out: the session’s refresh token stops working', async () => {
    const tenant = await h.signUp();
    const tokens = await h.logIn(tenant.email, tenant.password);
    const out = await h.http.post('/v1/auth/logout').send({ refreshToken: tokens.refreshToken });
    expect(out.status).toBe(204);
    const refreshed = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: tokens.refreshToken });
    expect(refreshed.status).toBe(401);
    // Unknown or garbage tokens get the same answer.
    expect((await h.http.post('/v1/auth/logout').send({ refreshToken: 'rt_nope' })).status).toBe(
      204,
    );
  });

  it('scopes every token to one tenant when a user belongs to several', async () => {
    const first = await h.signUp();
    // The same person signs up a second tenant with their existing account.
    const second = await h.signUp({ email: first.email, password: first.password });
    expect(second.userId).toBe(first.userId);

    const ambiguous = await h.http
      .post('/v1/auth/token')
      .send({ email: first.email, password: first.password });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.tenants).toHaveLength(2);

    const intoSecond = await h.logIn(first.email, first.password, second.tenantSlug);
    expect((await verify(intoSecond.accessToken)).payload.tid).toBe(second.tenantId);
    const intoFirst = await h.logIn(first.email, first.password, first.tenantId);
    expect((await verify(intoFirst.accessToken)).payload.tid).toBe(first.tenantId);

    const notMine = await h.signUp();
    const refused = await h.http
      .post('/v1/auth/token')
      .send({ email: first.email, password: first.password, tenant: notMine.tenantId });
    expect(refused.status).toBe(401);

    // Signing up with an existing email and the wrong password creates nothing.
    const hijack = await h.http.post('/v1/signup').send({
      tenantName: 'Hijack',
      email: first.email,
      password: 'definitely wrong password',
      displayName: 'Mallory',
    });
    expect(hijack.status).toBe(401);
  });

  it('rotates signing keys without invalidating tokens that are still valid', async () => {
    const tenant = await h.signUp();
    const before = await h.logIn(tenant.email, tenant.password);
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const newKid = await h.service.deps.signingKeys.rotate(0);
    expect(newKid).not.toBe(oldKid);

    const after = await h.logIn(tenant.email, tenant.password);
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(newKid);
    await verify(before.accessToken);
    await verify(after.accessToken);
    const kids = (await h.http.get('/.well-known/jwks.json')).body.keys.map(
      (key: { kid: string }) => key.kid,
    );
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    for (const key of (await h.http.get('/.well-known/jwks.json')).body.keys) {
      expect(key).not.toHaveProperty('d');
    }

    // A deleted key's tokens fail.
    await h.service.deps.signingKeys.deleteKey(oldKid!);
    await expect(verify(before.accessToken)).rejects.toThrow();
  });

  it('serves its OpenAPI document with the route permissions, without internal routes', async () => {
    const doc = await h.http.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/v1/signup'].post['x-permission']).toBe('public');
    expect(doc.body.paths['/v1/invitations'].post['x-permission']).toBe('members:invite');
    expect(Object.keys(doc.body.paths).some((path) => path.startsWith('/internal'))).toBe(false);
  });
});
