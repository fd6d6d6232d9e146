import { z } from 'zod';
import type { BuiltInRole } from '@tenantry/contracts';

export const BUILT_IN_ROLES = [
  'owner',
  'admin',
  'member',
  'billing-admin',
  'viewer',
] as const satisfies readonly BuiltInRole[];

export const roleSchema = z.enum(BUILT_IN_ROLES);

/** Roles an invitation or an API key may carry: ownership is only given at sign-up. */
export const grantableRoleSchema = z.enum(['admin', 'member', 'billing-admin', 'viewer']);
