import { z } from 'zod';
import { roleSchema } from '../domain/roles';

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
