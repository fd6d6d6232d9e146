// The platform's permission catalogue: every permission a route may name and a role may hold,
// `<resource>:<action>`. Services name these next to their routes; authorization owns which
// roles grant them. Add entries freely; renaming or removing one breaks stored custom roles.

/** `<resource>:<action>`, the resource possibly dotted (`billing.invoices:read`). */
export const PERMISSION_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*:[a-z][a-z0-9-]*$/;

export const PERMISSION_CATALOGUE = {
  'tenant:read': 'See the tenant’s name, plan and settings.',
  'tenant:update': 'Change the tenant’s name and settings.',
  'tenant:delete': 'Delete the tenant and all its data.',
  'members:read': 'List the tenant’s members and open invitations.',
  'members:invite': 'Invite people to the tenant.',
  'members:remove': 'Remove members and revoke invitations.',
  'api-keys:read': 'List the tenant’s API keys (never their secrets).',
  'api-keys:create': 'Issue API keys.',
  'api-keys:revoke': 'Revoke API keys.',
  'roles:read': 'See roles, their permissions and who holds them.',
  'roles:manage': 'Create, change and delete custom roles.',
  'roles:assign': 'Assign roles to members and API keys, and revoke them.',
  'billing.subscription:read': 'See the plan and subscription.',
  'billing.subscription:manage': 'Change the plan and payment details.',
  'billing.invoices:read': 'See and download invoices.',
  'billing.usage:read': 'See API usage.',
  'reports:read': 'See reports.',
  'reports:export': 'Export reports.',
  'audit:read': 'Read the audit log.',
} as const satisfies Record<string, string>;

export type Permission = keyof typeof PERMISSION_CATALOGUE;

export const PERMISSIONS: readonly Permission[] = Object.keys(PERMISSION_CATALOGUE) as Permission[];

export function isCataloguePermission(value: string): value is Permission {
  return Object.prototype.hasOwnProperty.call(PERMISSION_CATALOGUE, value);
}

/**
 * What platform operators may do, `platform.<resource>:<action>`: the names identity's
 * `/v1/platform` routes declare (their OpenAPI `x-permission`) and check against the operator's
 * role. Kept apart from PERMISSION_CATALOGUE on purpose: no tenant role, built-in or custom, can
 * hold these (owners hold every tenant permission, and a custom role may name any of those).
 */
export const PLATFORM_PERMISSION_CATALOGUE = {
  'platform.tenants:read': 'List and show every tenant, with its offboarding state.',
  'platform.tenants:suspend': 'Suspend a tenant.',
  'platform.tenants:resume': 'Resume a suspended tenant.',
  'platform.tenants:delete': 'Delete a tenant (start its offboarding) or cancel that.',
  'platform.signing-keys:rotate': 'Add a new token signing key.',
  'platform.dlq:replay': 'Record, and so be allowed to perform, a dead-letter replay.',
} as const satisfies Record<string, string>;

export type PlatformPermission = keyof typeof PLATFORM_PERMISSION_CATALOGUE;

export const PLATFORM_PERMISSIONS: readonly PlatformPermission[] = Object.keys(
  PLATFORM_PERMISSION_CATALOGUE,
) as PlatformPermission[];

export function isPlatformPermission(value: string): value is PlatformPermission {
  return Object.prototype.hasOwnProperty.call(PLATFORM_PERMISSION_CATALOGUE, value);
}
