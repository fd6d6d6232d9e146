import { z } from 'zod';
import { PERMISSION_PATTERN } from '@tenantry/contracts';
import { ROLE_NAME_PATTERN } from '../domain/grant-rules';

export const permissionSchema = z.string().regex(PERMISSION_PATTERN).max(200);
/** Subject ids as identity issues them (uuids, prefixed ids); never free text. */
export const subjectIdSchema = z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/);
export const assignableSubjectTypeSchema = z.enum(['user', 'api_key']);
export const roleNameSchema = z.string().min(3).max(50);
export const customRoleNameSchema = z.string().regex(ROLE_NAME_PATTERN);

export const subjectSchema = z.object({ type: z.string(), id: z.string() });

export const roleSchema = z.object({
  name: z.string(),
  description: z.string(),
  builtIn: z.boolean(),
  permissions: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const assignmentSchema = z.object({
  subjectType: z.string(),
  subjectId: z.string(),
  role: z.string(),
  assignedAt: z.string(),
});

export const decisionsSchema = z.record(z.string(), z.boolean());

export const problemResponses = {
  400: { description: 'Invalid request' },
  401: { description: 'No valid signed context' },
  403: { description: 'Not permitted' },
  503: { description: 'Decisions unavailable (refused, never allowed)' },
} as const;
