import type { BuiltInRole, PlatformPermission } from '@tenantry/contracts';

export type { PlatformPermission } from '@tenantry/contracts';

/** What identity's own tenant routes need; the gateway checks the same names coarsely. */
export type TenantPermission =
  | 'members:read'
  | 'members:remove'
  | 'invitations:create'
  | 'invitations:read'
  | 'invitations:revoke'
  | 'api-keys:create'
  | 'api-keys:read'
  | 'api-keys:revoke'
  | 'tenant:delete';

const MANAGERS: readonly BuiltInRole[] = ['owner', 'admin'];

const TENANT_GRANTS: Readonly<Record<TenantPermission, readonly BuiltInRole[]>> = {
  'members:read': ['owner', 'admin', 'member', 'billing-admin', 'viewer'],
  'members:remove': MANAGERS,
  'invitations:create': MANAGERS,
  'invitations:read': MANAGERS,
  'invitations:revoke': MANAGERS,
  'api-keys:create': MANAGERS,
  // Follows the permission catalogue: members see the tenant's keys (never their secrets).
  'api-keys:read': ['owner', 'admin', 'member'],
  'api-keys:revoke': MANAGERS,
  // Only an owner may ask for the tenant's deletion (admins are excluded in the catalogue too).
  'tenant:delete': ['owner'],
};

// Identity's finer names -> the permission catalogue the gateway checks.
const CATALOGUE_NAMES: Readonly<Record<TenantPermission, string>> = {
  'members:read': 'members:read',
  'members:remove': 'members:remove',
  'invitations:create': 'members:invite',
  'invitations:read': 'members:read',
  'invitations:revoke': 'members:remove',
  'api-keys:create': 'api-keys:create',
  'api-keys:read': 'api-keys:read',
  'api-keys:revoke': 'api-keys:revoke',
  'tenant:delete': 'tenant:delete',
};

/**
 * Operator roles per platform permission (the catalogue's names in `libs/contracts`, the same
 * ones the routes declare): `admin` operators may also delete tenants and rotate keys.
 */
const PLATFORM_GRANTS: Readonly<Record<PlatformPermission, readonly string[]>> = {
  'platform.tenants:read': ['support', 'admin'],
  'platform.tenants:suspend': ['support', 'admin'],
  'platform.tenants:resume': ['support', 'admin'],
  'platform.tenants:delete': ['admin'],
  'platform.signing-keys:rotate': ['admin'],
  // Support answers the DLQ runbook; every replay is recorded first (POST /v1/platform/dlq-replays).
  'platform.dlq:replay': ['support', 'admin'],
};

/**
 * The one place identity decides roles itself, until the authorization service owns these
 * decisions; then this module asks it instead, and nothing else changes.
 */
export const accessPolicy = {
  tenantRoleAllows(role: BuiltInRole, permission: TenantPermission): boolean {
    return TENANT_GRANTS[permission].includes(role);
  },

  operatorRoleAllows(role: string, permission: PlatformPermission): boolean {
    return PLATFORM_GRANTS[permission].includes(role);
  },

  /** The authorization catalogue's name of one of identity's tenant permissions. */
  catalogueNameOf(permission: TenantPermission): string {
    return CATALOGUE_NAMES[permission];
  },

  /**
   * Whether `actorRole` may hand out or take away `targetRole` (an admin cannot touch owners).
   * Deliberately by membership role even when authorization granted the route: a custom role
   * holding `members:invite` must not hand out a role with permissions its holder lacks, and
   * identity cannot see role definitions (authorization owns them).
   */
  canManageRole(actorRole: BuiltInRole, targetRole: BuiltInRole): boolean {
    if (!MANAGERS.includes(actorRole)) return false;
    return targetRole !== 'owner' || actorRole === 'owner';
  },
};
