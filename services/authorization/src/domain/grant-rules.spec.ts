import { BUILT_IN_ROLE_PERMISSIONS } from './built-in-roles';
import { missingPermissions, removesLastOwner } from './grant-rules';

describe('grant rules', () => {
  it('lists what the grantor lacks', () => {
    const admin = new Set<string>(BUILT_IN_ROLE_PERMISSIONS.admin);
    expect(missingPermissions(admin, BUILT_IN_ROLE_PERMISSIONS.owner)).toEqual([
      'billing.subscription:manage',
      'tenant:delete',
    ]);
    expect(missingPermissions(admin, BUILT_IN_ROLE_PERMISSIONS.member)).toEqual([]);
  });

  it('protects only the last user owner', () => {
    expect(removesLastOwner('owner', 'user', 0)).toBe(true);
    expect(removesLastOwner('owner', 'user', 1)).toBe(false);
    expect(removesLastOwner('owner', 'api_key', 0)).toBe(false);
    expect(removesLastOwner('admin', 'user', 0)).toBe(false);
  });
});
