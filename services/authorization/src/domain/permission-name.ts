import { PERMISSION_PATTERN } from '@tenantry/contracts';

export interface PermissionParts {
  /** Casbin `obj`: the resource, possibly dotted (`billing.invoices`). */
  readonly resource: string;
  /** Casbin `act`. */
  readonly action: string;
}

/** `billing.invoices:read` -> { resource: 'billing.invoices', action: 'read' } */
export function splitPermission(permission: string): PermissionParts | undefined {
  if (!PERMISSION_PATTERN.test(permission)) return undefined;
  const at = permission.lastIndexOf(':');
  return { resource: permission.slice(0, at), action: permission.slice(at + 1) };
}

export function joinPermission(resource: string, action: string): string {
  return `${resource}:${action}`;
}
