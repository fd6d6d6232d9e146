import { newEnforcer, newModelFromString } from 'casbin';
import { PERMISSIONS } from '@tenantry/contracts';
import { AUTHORIZATION_MODEL } from '../domain/authorization-model';
import { BUILT_IN_ROLE_NAMES, BUILT_IN_ROLE_PERMISSIONS } from '../domain/built-in-roles';
import { splitPermission } from '../domain/permission-name';
import type { PolicySubject } from '../domain/policy-subject';
import { roleKey, subjectKey } from '../domain/policy-subject';
import { TenantPolicy } from './tenant-policy';

async function policyWith(
  tenantId: string,
  assignments: [PolicySubject, string][],
  extraGrants: [string, string][] = [],
): Promise<TenantPolicy> {
  const enforcer = await newEnforcer(newModelFromString(AUTHORIZATION_MODEL));
  const grants: [string, string][] = [
    ...BUILT_IN_ROLE_NAMES.flatMap((role) =>
      BUILT_IN_ROLE_PERMISSIONS[role].map((p): [string, string] => [role, p]),
    ),
    ...extraGrants,
  ];
  for (const [role, permission] of grants) {
    const parts = splitPermission(permission)!;
    await enforcer.addPolicy(roleKey(role), tenantId, parts.resource, parts.action);
  }
  for (const [subject, role] of assignments) {
    await enforcer.addGroupingPolicy(subjectKey(subject), roleKey(role), tenantId);
  }
  return new TenantPolicy(tenantId, 1, enforcer);
}

describe('TenantPolicy', () => {
  it('agrees with Casbin’s enforce for every built-in role and permission', async () => {
    const users = BUILT_IN_ROLE_NAMES.map((role): [PolicySubject, string] => [
      { type: 'user', id: `u-${role}` },
      role,
    ]);
    const policy = await policyWith('t1', [...users, [{ type: 'api_key', id: 'k1' }, 'viewer']]);
    const subjects: PolicySubject[] = [
      ...users.map(([subject]) => subject),
      { type: 'api_key', id: 'k1' },
      { type: 'user', id: 'stranger' },
      { type: 'operator', id: 'op' },
      { type: 'service', id: 'gateway' },
    ];
    for (const subject of subjects) {
      const held = await policy.permissionsOf(subject);
      for (const permission of [...PERMISSIONS, 'nothing:here', 'bad']) {
        expect([subject, permission, held.has(permission)]).toEqual([
          subject,
          permission,
          await policy.enforce(subject, permission),
        ]);
      }
    }
    expect(await policy.rolesOf({ type: 'user', id: 'u-admin' })).toEqual(['admin']);
  });

  it('unions the permissions of several roles and keeps custom ones', async () => {
    const subject: PolicySubject = { type: 'user', id: 'both' };
    const policy = await policyWith(
      't1',
      [
        [subject, 'viewer'],
        [subject, 'auditor'],
      ],
      [['auditor', 'audit:read']],
    );
    const held = await policy.permissionsOf(subject);
    expect(held.has('audit:read')).toBe(true);
    expect(held.has('reports:read')).toBe(true);
    expect(held.has('roles:manage')).toBe(false);
  });

  it('never answers for another domain', async () => {
    const enforcer = await newEnforcer(newModelFromString(AUTHORIZATION_MODEL));
    await enforcer.addPolicy(roleKey('owner'), 'tenant-b', 'tenant', 'delete');
    await enforcer.addGroupingPolicy('user:u1', roleKey('owner'), 'tenant-b');
    const policy = new TenantPolicy('tenant-a', 1, enforcer);
    expect((await policy.permissionsOf({ type: 'user', id: 'u1' })).size).toBe(0);
  });
});
