import { accessPolicy } from './access-policy';

describe('accessPolicy', () => {
  it('lets owners and admins manage members, invitations and keys, and nobody else', () => {
    for (const role of ['owner', 'admin'] as const) {
      expect(accessPolicy.tenantRoleAllows(role, 'invitations:create')).toBe(true);
      expect(accessPolicy.tenantRoleAllows(role, 'api-keys:revoke')).toBe(true);
      expect(accessPolicy.tenantRoleAllows(role, 'members:remove')).toBe(true);
    }
    for (const role of ['member', 'viewer', 'billing-admin'] as const) {
      expect(accessPolicy.tenantRoleAllows(role, 'invitations:create')).toBe(false);
      expect(accessPolicy.tenantRoleAllows(role, 'api-keys:create')).toBe(false);
      expect(accessPolicy.tenantRoleAllows(role, 'members:remove')).toBe(false);
      expect(accessPolicy.tenantRoleAllows(role, 'members:read')).toBe(true);
    }
  });

  it('keeps owners out of an admin’s reach', () => {
    expect(accessPolicy.canManageRole('admin', 'member')).toBe(true);
    expect(accessPolicy.canManageRole('admin', 'owner')).toBe(false);
    expect(accessPolicy.canManageRole('owner', 'owner')).toBe(true);
    expect(accessPolicy.canManageRole('member', 'viewer')).toBe(false);
  });

  it('reserves tenant deletion and key rotation for admin operators', () => {
    expect(accessPolicy.operatorRoleAllows('support', 'platform.tenants:suspend')).toBe(true);
    expect(accessPolicy.operatorRoleAllows('support', 'platform.tenants:delete')).toBe(false);
    expect(accessPolicy.operatorRoleAllows('admin', 'platform.tenants:delete')).toBe(true);
    expect(accessPolicy.operatorRoleAllows('admin', 'platform.signing-keys:rotate')).toBe(true);
    expect(accessPolicy.operatorRoleAllows('support', 'platform.signing-keys:rotate')).toBe(false);
  });

  it('lets support and admin operators replay dead letters', () => {
    expect(accessPolicy.operatorRoleAllows('support', 'platform.dlq:replay')).toBe(true);
    expect(accessPolicy.operatorRoleAllows('admin', 'platform.dlq:replay')).toBe(true);
    expect(accessPolicy.operatorRoleAllows('viewer', 'platform.dlq:replay')).toBe(false);
  });
});
