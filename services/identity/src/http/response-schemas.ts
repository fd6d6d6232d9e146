import { z } from 'zod';
import { roleSchema } from '../domain/roles';
import { TENANT_STATUSES } from '../domain/tenant-lifecycle';

/** Shared response shapes, for the OpenAPI document. */
export const problem = (description: string) => ({ description });

export const sessionTokensSchema = z.object({
  tokenType: z.literal('Bearer'),
  accessToken: z.string(),
  expiresIn: z.number().int(),
  refreshToken: z.string(),
  refreshExpiresIn: z.number().int(),
  tenantId: z.uuid(),
  userId: z.uuid(),
});

export const memberSchema = z.object({
  userId: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  role: roleSchema,
  joinedAt: z.string(),
});

export const invitationSchema = z.object({
  invitationId: z.uuid(),
  email: z.string(),
  role: roleSchema,
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  createdAt: z.string(),
  expiresAt: z.string(),
});

export const apiKeySchema = z.object({
  apiKeyId: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  role: roleSchema,
  status: z.enum(['active', 'revoked', 'expired']),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const tenantStatusSchema = z.object({
  tenantId: z.uuid(),
  status: z.enum(['active', 'suspended', 'deleted']),
});

/** Where a tenant's offboarding stands: null for a tenant nobody asked to delete. */
export const offboardingView = z.object({
  tenantId: z.string(),
  status: z.enum(TENANT_STATUSES),
  deletionRequestedAt: z.string().nullable(),
  /** The grace period ends here: the purge starts after it, a cancel is possible before. */
  purgeAfter: z.string().nullable(),
  purgeStartedAt: z.string().nullable(),
  deletedAt: z.string().nullable(),
  confirmed: z.array(z.object({ service: z.string(), confirmedAt: z.string() })),
  /** Services that have not confirmed their purge yet. */
  pending: z.array(z.string()),
});
