import type { BuiltInRole, Permission } from '@tenantry/contracts';
import { PERMISSIONS } from '@tenantry/contracts';

export const BUILT_IN_ROLE_NAMES: readonly BuiltInRole[] = [
  'owner',
  'admin',
  'member',
  'billing-admin',
  'viewer',
];

export function isBuiltInRole(name: string): name is BuiltInRole {
  return (BUILT_IN_ROLE_NAMES as readonly string[]).includes(name);
}

const ADMIN_EXCLUDED: readonly Permission[] = ['tenant:delete', 'billing.subscription:manage'];

/**
 * What each built-in role grants in every tenant. Owners hold the whole catalogue; admins all but
 * deleting the tenant and managing the subscription (so an admin can never make anyone owner:
 * nobody grants what they do not hold).
 */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<BuiltInRole, readonly Permission[]>> = {
  owner: PERMISSIONS,
  admin: PERMISSIONS.filter((permission) => !ADMIN_EXCLUDED.includes(permission)),
  member: ['tenant:read', 'members:read', 'api-keys:read', 'reports:read', 'reports:export'],
  'billing-admin': [
    'tenant:read',
    'billing.subscription:read',
    'billing.subscription:manage',
    'billing.invoices:read',
    'billing.usage:read',
  ],
  viewer: ['tenant:read', 'members:read', 'reports:read'],
};

export const BUILT_IN_ROLE_DESCRIPTIONS: Readonly<Record<BuiltInRole, string>> = {
  owner: 'Everything, including deleting the tenant. A tenant always keeps at least one owner.',
  admin: 'Runs the tenant: members, keys, roles, reports, audit log; not billing changes.',
  member: 'Works in the tenant: reads members and keys, reads and exports reports.',
  'billing-admin': 'Manages the plan and subscription, reads invoices and usage.',
  viewer: 'Read-only access to the tenant, its members and reports.',
};

/** Assigned when identity names a role this tenant does not have (least privilege). */
export const FALLBACK_ROLE: BuiltInRole = 'viewer';
