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
