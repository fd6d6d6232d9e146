import { randomUUID } from 'node:crypto';
import { withTenant } from '@tenantry/db';
import type { SignedUpTenant } from './support/identity-test-harness';
import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: one tenant cannot reach another’s users, invitations or keys', () => {
  const h = new IdentityTestHarness();
  let a: SignedUpTenant;
  let b: SignedUpTenant;
  let bMember: string;
  let bInvitation: string;
  let bKey: string;

  beforeAll(async () => {
    await h.setUp();
    [a, b] = await Promise.all([h.signUp(), h.signUp()]);
    bMember = (await h.addMember(b, 'member')).userId;
    const invitation = await h.asUser(
      b,
      b.userId,
      h.http
        .post('/v1/invitations')
        .send({ email: `b-${randomUUID()}@example.com`, role: 'admin' }),
    );
    bInvitation = invitation.body.invitationId;
    const key = await h.asUser(
      b,
      b.userId,
      h.http.post('/v1/api-keys').send({ name: 'b key', role: 'member' }),
    );
    bKey = key.body.apiKeyId;
  });
  afterAll(() => h.tearDown());

  async function bState() {
    return withTenant(h.service.deps.dataSource, b.tenantId, async (tx) => ({
      members: await tx.manager.query(`SELECT user_id, role FROM memberships ORDER BY user_id`),
      invitations: await tx.manager.query(`SELECT id, revoked_at FROM invitations`),
      keys: await tx.manager.query(`SELECT id, revoked_at FROM api_keys`),
    }));
  }

  it('answers 404 to reads, changes and deletes by id, and changes nothing', async () => {
    const before = await bState();
    const asOwnerOfA = (test: Parameters<typeof h.asUser>[2]) => h.asUser(a, a.userId, test);
    const attempts = [
      await asOwnerOfA(h.http.get(`/v1/members/${bMember}`)),
      await asOwnerOfA(h.http.delete(`/v1/members/${bMember}`)),
      await asOwnerOfA(h.http.delete(`/v1/members/${b.userId}`)),
      await asOwnerOfA(h.http.get(`/v1/invitations/${bInvitation}`)),
      await asOwnerOfA(h.http.delete(`/v1/invitations/${bInvitation}`)),
      await asOwnerOfA(h.http.get(`/v1/api-keys/${bKey}`)),
      await asOwnerOfA(h.http.delete(`/v1/api-keys/${bKey}`)),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect(await bState()).toEqual(before);
    expect(await h.outbox(b.tenantId, 'identity.membership.removed')).toHaveLength(0);
    expect(await h.outbox(b.tenantId, 'identity.api-key.revoked')).toHaveLength(0);
    expect(await h.outbox(b.tenantId, 'identity.invitation.revoked')).toHaveLength(0);
  });

  it('lists only the caller’s own tenant', async () => {
    const members = await h.asUser(a, a.userId, h.http.get('/v1/members'));
    expect(members.body.items.map((m: { userId: string }) => m.userId)).toEqual([a.userId]);
    const invitations = await h.asUser(a, a.userId, h.http.get('/v1/invitations'));
    expect(invitations.body.items).toEqual([]);
    const keys = await h.asUser(a, a.userId, h.http.get('/v1/api-keys'));
    expect(keys.body.items).toEqual([]);
  });

  it('refuses a user whose context names a tenant they are not a member of', async () => {
    // A (forged or stale) context: A's owner in B's tenant.
    const crossed = await h.asUser(b, a.userId, h.http.get('/v1/members'));
    expect(crossed.status).toBe(403);
    const crossedDelete = await h.asUser(b, a.userId, h.http.delete(`/v1/members/${bMember}`));
    expect(crossedDelete.status).toBe(403);
    expect((await bState()).members).toHaveLength(2);
  });

  it('ignores tenant ids smuggled into bodies and queries', async () => {
    const smuggled = await h.asUser(
      a,
      a.userId,
      h.http.post('/v1/api-keys').send({ name: 'x', role: 'member', tenantId: b.tenantId }),
    );
    expect(smuggled.status).toBe(400);
    const viaQuery = await h.asUser(a, a.userId, h.http.get(`/v1/members?tenantId=${b.tenantId}`));
    expect(viaQuery.body.items.map((m: { userId: string }) => m.userId)).toEqual([a.userId]);
  });
});
