import { AuthorizationTestBed } from './support/authorization-test-bed';
import type { TestTenant } from './support/authorization-test-bed';

describe('privilege escalation is refused', () => {
  let bed: AuthorizationTestBed;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  let t: TestTenant;
  beforeEach(async () => {
    t = await bed.tenantWithEveryRole();
  });

  const as = (userId: string) => bed.asUser(userId);

  it('nobody grants a permission they do not hold (custom roles)', async () => {
    const admin = as(t.users.admin);
    const withDelete = await bed.call('post', '/v1/roles', t.tenantId, admin, {
      name: 'deleter',
      permissions: ['tenant:delete'],
    });
    expect(withDelete.status).toBe(403);
    expect(withDelete.body.missingPermissions).toEqual(['tenant:delete']);

    const allowed = await bed.call('post', '/v1/roles', t.tenantId, admin, {
      name: 'auditor',
      description: 'reads the audit log',
      permissions: ['audit:read', 'members:read'],
    });
    expect(allowed.status).toBe(201);
    const widened = await bed.call('put', '/v1/roles/auditor', t.tenantId, admin, {
      permissions: ['audit:read', 'billing.subscription:manage'],
    });
    expect(widened.status).toBe(403);

    // The owner widens it; the admin can then neither narrow nor delete what it cannot grant.
    const byOwner = await bed.call('put', '/v1/roles/auditor', t.tenantId, as(t.ownerId), {
      permissions: ['audit:read', 'billing.subscription:manage'],
    });
    expect(byOwner.status).toBe(200);
    expect(
      (await bed.call('put', '/v1/roles/auditor', t.tenantId, admin, { permissions: [] })).status,
    ).toBe(403);
    expect((await bed.call('delete', '/v1/roles/auditor', t.tenantId, admin)).status).toBe(403);

    const unknown = await bed.call('post', '/v1/roles', t.tenantId, as(t.ownerId), {
      name: 'weird',
      permissions: ['made-up:thing'],
    });
    expect(unknown.status).toBe(400);
  });

  it('an admin can neither make anyone owner nor demote an owner', async () => {
    const admin = as(t.users.admin);
    const promote = await bed.call(
      'put',
      `/v1/role-assignments/user/${t.users.member}/roles/owner`,
      t.tenantId,
      admin,
    );
    expect(promote.status).toBe(403);
    const self = await bed.call(
      'put',
      `/v1/role-assignments/user/${t.users.admin}/roles/owner`,
      t.tenantId,
      admin,
    );
    expect(self.status).toBe(403);
    const demote = await bed.call(
      'delete',
      `/v1/role-assignments/user/${t.ownerId}/roles/owner`,
      t.tenantId,
      admin,
    );
    expect(demote.status).toBe(403);
    expect(await bed.rolesInDatabase(t.tenantId, 'user', t.users.member)).toEqual(['member']);
    expect(await bed.rolesInDatabase(t.tenantId, 'user', t.ownerId)).toEqual(['owner']);

    // What the admin holds it may hand out.
    const grant = await bed.call(
      'put',
      `/v1/role-assignments/user/${t.users.member}/roles/viewer`,
      t.tenantId,
      admin,
    );
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({ created: true });
  });

  it('members without roles:manage or roles:assign are refused', async () => {
    const member = as(t.users.member);
    expect(
      (
        await bed.call('post', '/v1/roles', t.tenantId, member, {
          name: 'mine',
          permissions: ['reports:read'],
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await bed.call(
          'put',
          `/v1/role-assignments/user/${t.users.member}/roles/admin`,
          t.tenantId,
          member,
        )
      ).status,
    ).toBe(403);
  });

  it('built-in roles cannot be edited or deleted, even by the owner', async () => {
    const owner = as(t.ownerId);
    const edit = await bed.call('put', '/v1/roles/viewer', t.tenantId, owner, {
      permissions: ['tenant:read', 'audit:read'],
    });
    expect(edit.status).toBe(403);
    const remove = await bed.call('delete', '/v1/roles/member', t.tenantId, owner);
    expect(remove.status).toBe(403);
    const shadow = await bed.call('post', '/v1/roles', t.tenantId, owner, {
      name: 'admin',
      permissions: [],
    });
    expect(shadow.status).toBe(409);
    const viewer = await bed.call('get', '/v1/roles/viewer', t.tenantId, owner);
    expect(viewer.body.permissions).toEqual(['members:read', 'reports:read', 'tenant:read']);
  });

  it('the last owner cannot be removed or demoted; a second owner makes it possible', async () => {
    const owner = as(t.ownerId);
    const last = await bed.call(
      'delete',
      `/v1/role-assignments/user/${t.ownerId}/roles/owner`,
      t.tenantId,
      owner,
    );
    expect(last.status).toBe(409);
    expect(await bed.rolesInDatabase(t.tenantId, 'user', t.ownerId)).toEqual(['owner']);

    await bed.call(
      'put',
      `/v1/role-assignments/user/${t.users.admin}/roles/owner`,
      t.tenantId,
      owner,
    );
    const now = await bed.call(
      'delete',
      `/v1/role-assignments/user/${t.ownerId}/roles/owner`,
      t.tenantId,
      owner,
    );
    expect(now.status).toBe(204);
    // Its decisions follow at once on this replica.
    const check = await bed.call('post', '/v1/authz/check', t.tenantId, owner, {
      permission: 'tenant:delete',
    });
    expect(check.body).toEqual({ permission: 'tenant:delete', allowed: false });
  });

  it('roles go only to members and keys identity knows of', async () => {
    const stranger = await bed.call(
      'put',
      '/v1/role-assignments/user/somebody-else/roles/viewer',
      t.tenantId,
      as(t.ownerId),
    );
    expect(stranger.status).toBe(404);
    const notHeld = await bed.call(
      'delete',
      `/v1/role-assignments/user/${t.users.viewer}/roles/admin`,
      t.tenantId,
      as(t.ownerId),
    );
    expect(notHeld.status).toBe(404);
  });
});
