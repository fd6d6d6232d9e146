import { decodeJwt } from 'jose';
import { IdentityTestHarness } from './support/identity-test-harness';

const SESSION_REVOKED = 'identity.session.revoked';

describe('identity: ending a session publishes its revocation for the access tokens', () => {
  const h = new IdentityTestHarness();

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(() => h.tearDown());

  const sidOf = (accessToken: string): unknown => decodeJwt(accessToken).sid;

  it('stamps the session id in the access token and keeps it across refreshes', async () => {
    const tenant = await h.signUp();
    const first = await h.logIn(tenant.email, tenant.password);
    const second = await h.logIn(tenant.email, tenant.password);
    expect(sidOf(first.accessToken)).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(sidOf(second.accessToken)).not.toEqual(sidOf(first.accessToken));

    const refreshed = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: first.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(sidOf(String(refreshed.body.accessToken))).toEqual(sidOf(first.accessToken));
  });

  it('logout publishes identity.session.revoked once, with the session and its tokens’ expiry', async () => {
    const tenant = await h.signUp();
    const tokens = await h.logIn(tenant.email, tenant.password);
    const before = Date.now();
    expect(
      (await h.http.post('/v1/auth/logout').send({ refreshToken: tokens.refreshToken })).status,
    ).toBe(204);

    const events = await h.outbox(tenant.tenantId, SESSION_REVOKED);
    expect(events).toHaveLength(1);
    expect(events[0]!.headers).toMatchObject({
      ce_tenantid: tenant.tenantId,
      ce_actortype: 'user',
      ce_actorid: tenant.userId,
    });
    const payload = await h.payloadOf(events[0]!);
    expect(payload).toMatchObject({
      tenantId: tenant.tenantId,
      userId: tenant.userId,
      sessionId: sidOf(tokens.accessToken),
      reason: 'logout',
    });
    // No access token of the session can outlive it: issued before now, 900 s of life.
    const expiresAt = Date.parse(String(payload.accessTokensExpireAt));
    expect(expiresAt).toBeGreaterThanOrEqual(decodeJwt(tokens.accessToken).exp! * 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 901_000);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 900_000);

    // A second logout of the ended session says nothing new.
    await h.http.post('/v1/auth/logout').send({ refreshToken: tokens.refreshToken });
    expect(await h.outbox(tenant.tenantId, SESSION_REVOKED)).toHaveLength(1);
  });

  it('refresh-token reuse publishes the session’s revocation (and a replay adds none)', async () => {
    const tenant = await h.signUp();
    const tokens = await h.logIn(tenant.email, tenant.password);
    await h.http.post('/v1/auth/refresh').send({ refreshToken: tokens.refreshToken });
    const reuse = await h.http.post('/v1/auth/refresh').send({ refreshToken: tokens.refreshToken });
    expect(reuse.status).toBe(401);
    await h.http.post('/v1/auth/refresh').send({ refreshToken: tokens.refreshToken });

    const events = await h.outbox(tenant.tenantId, SESSION_REVOKED);
    expect(events).toHaveLength(1);
    expect(await h.payloadOf(events[0]!)).toMatchObject({
      sessionId: sidOf(tokens.accessToken),
      userId: tenant.userId,
      reason: 'refresh-token-reuse',
    });
  });

  it('removing a member publishes the revocation of each of their live sessions', async () => {
    const tenant = await h.signUp();
    const member = await h.addMember(tenant, 'member');
    const a = await h.logIn(member.email, member.password, tenant.tenantId);
    const b = await h.logIn(member.email, member.password, tenant.tenantId);
    const removed = await h.asUser(
      tenant,
      tenant.userId,
      h.http.delete(`/v1/members/${member.userId}`),
    );
    expect(removed.status).toBe(204);

    const events = await h.outbox(tenant.tenantId, SESSION_REVOKED);
    const payloads = await Promise.all(events.map((row) => h.payloadOf(row)));
    expect(payloads.map((p) => p.sessionId).sort()).toEqual(
      [sidOf(a.accessToken), sidOf(b.accessToken)].sort(),
    );
    expect(payloads.every((p) => p.reason === 'membership-removed')).toBe(true);
    // The admin who removed them is the actor.
    expect(events[0]!.headers).toMatchObject({ ce_actorid: tenant.userId });
  });
});
