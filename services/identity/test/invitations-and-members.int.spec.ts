import { withTenant } from '@tenantry/db';
import { randomUUID } from 'node:crypto';
import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: invitations and members', () => {
  const h = new IdentityTestHarness();

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(() => h.tearDown());

  it('invites, accepts once, and the invitee becomes a member who can log in', async () => {
    const tenant = await h.signUp();
    const email = `Invitee-${randomUUID()}@Example.com`;
    const invited = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/invitations').send({ email, role: 'member' }),
    );
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email: email.toLowerCase(), role: 'member' });
    expect(invited.body.token).toMatch(/^inv_/);

    const listed = await h.asUser(tenant, tenant.userId, h.http.get('/v1/invitations'));
    expect(listed.body.items).toEqual([
      expect.objectContaining({ invitationId: invited.body.invitationId, status: 'pending' }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(invited.body.token);

    const password = `pw-${randomUUID()}`;
    const accepted = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password, displayName: 'Ivy Invitee' });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ tenantId: tenant.tenantId, role: 'member' });

    const again = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password, displayName: 'Ivy Invitee' });
    expect(again.status).toBe(410);

    const tokens = await h.logIn(email, password);
    expect(tokens.tenantId).toBe(tenant.tenantId);

    const members = await h.asUser(tenant, tenant.userId, h.http.get('/v1/members'));
    expect(members.body.items.map((m: { role: string }) => m.role).sort()).toEqual([
      'member',
      'owner',
    ]);

    const types = (await h.outbox(tenant.tenantId)).map((row) => row.event_type);
    expect(types).toEqual(
      expect.arrayContaining([
        'identity.invitation.created',
        'identity.invitation.accepted',
        'identity.membership.added',
      ]),
    );
    const acceptedEvent = (await h.outbox(tenant.tenantId, 'identity.invitation.accepted'))[0]!;
    expect(acceptedEvent.headers).toMatchObject({
      ce_actortype: 'user',
      ce_actorid: accepted.body.userId,
    });
  });

  it('lets an existing user accept only with their own password', async () => {
    const home = await h.signUp();
    const other = await h.signUp();
    const invited = await h.asUser(
      other,
      other.userId,
      h.http.post('/v1/invitations').send({ email: home.email, role: 'viewer' }),
    );
    const wrong = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password: 'not their password at all' });
    expect(wrong.status).toBe(401);
    const right = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password: home.password });
    expect(right.status).toBe(201);
    expect(right.body.userId).toBe(home.userId);
  });

  it('revokes an invitation so it can no longer be accepted', async () => {
    const tenant = await h.signUp();
    const invited = await h.asUser(
      tenant,
      tenant.userId,
      h.http
        .post('/v1/invitations')
        .send({ email: `x-${randomUUID()}@example.com`, role: 'admin' }),
    );
    const revoked = await h.asUser(
      tenant,
      tenant.userId,
      h.http.delete(`/v1/invitations/${invited.body.invitationId}`),
    );
    expect(revoked.status).toBe(204);
    const accept = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password: `pw-${randomUUID()}`, displayName: 'X' });
    expect(accept.status).toBe(410);
    expect(await h.outbox(tenant.tenantId, 'identity.invitation.revoked')).toHaveLength(1);
  });

  it('expires invitations', async () => {
    const tenant = await h.signUp();
    const invited = await h.asUser(
      tenant,
      tenant.userId,
      h.http
        .post('/v1/invitations')
        .send({ email: `e-${randomUUID()}@example.com`, role: 'member' }),
    );
    await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [invited.body.invitationId],
      ),
    );
    const accept = await h.http
      .post('/v1/invitations/accept')
      .send({ token: invited.body.token, password: `pw-${randomUUID()}`, displayName: 'E' });
    expect(accept.status).toBe(410);
  });

  it('refuses members and viewers who try to invite, remove or manage keys', async () => {
    const tenant = await h.signUp();
    const member = await h.addMember(tenant, 'member');
    const invite = await h.asUser(
      tenant,
      member.userId,
      h.http
        .post('/v1/invitations')
        .send({ email: `y-${randomUUID()}@example.com`, role: 'admin' }),
    );
    expect(invite.status).toBe(403);
    const remove = await h.asUser(
      tenant,
      member.userId,
      h.http.delete(`/v1/members/${tenant.userId}`),
    );
    expect(remove.status).toBe(403);
    const key = await h.asUser(
      tenant,
      member.userId,
      h.http.post('/v1/api-keys').send({ name: 'ci', role: 'viewer' }),
    );
    expect(key.status).toBe(403);
    // Members may still read the member list.
    const list = await h.asUser(tenant, member.userId, h.http.get('/v1/members'));
    expect(list.status).toBe(200);
  });

  it('removes a member: their sessions end, admins cannot remove owners, the last owner stays', async () => {
    const tenant = await h.signUp();
    const admin = await h.addMember(tenant, 'admin');
    const member = await h.addMember(tenant, 'member');
    const session = await h.logIn(member.email, member.password);

    const adminRemovesOwner = await h.asUser(
      tenant,
      admin.userId,
      h.http.delete(`/v1/members/${tenant.userId}`),
    );
    expect(adminRemovesOwner.status).toBe(403);
    const ownerRemovesSelf = await h.asUser(
      tenant,
      tenant.userId,
      h.http.delete(`/v1/members/${tenant.userId}`),
    );
    expect(ownerRemovesSelf.status).toBe(409);

    const removed = await h.asUser(
      tenant,
      admin.userId,
      h.http.delete(`/v1/members/${member.userId}`),
    );
    expect(removed.status).toBe(204);
    const refresh = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: session.refreshToken });
    expect(refresh.status).toBe(401);
    const meAfter = await h.asUser(tenant, member.userId, h.http.get('/v1/me'));
    expect(meAfter.status).toBe(403);
    const removedEvent = await h.outbox(tenant.tenantId, 'identity.membership.removed');
    expect(await h.payloadOf(removedEvent[0]!)).toMatchObject({ userId: member.userId });
    expect(removedEvent[0]!.headers).toMatchObject({ ce_actorid: admin.userId });
    const audit = await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `SELECT actor_type, actor_id, request_id FROM audit_log
                        WHERE action = 'membership.removed' AND target_id = $1`,
        [member.userId],
      ),
    );
    expect(audit).toEqual([
      { actor_type: 'user', actor_id: admin.userId, request_id: expect.any(String) },
    ]);
    // The audit table is under row-level security: without a tenant set, nothing is visible.
    const unscoped = await h.service.deps.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_log`,
    );
    expect(unscoped[0].n).toBe(0);
  });
});
