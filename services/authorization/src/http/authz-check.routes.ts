import { z } from 'zod';
import { PERMISSION_CATALOGUE } from '@tenantry/contracts';
import type { ApiRoutes } from '@tenantry/http';
import { forbidden } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import {
  assignableSubjectTypeSchema,
  decisionsSchema,
  problemResponses,
  subjectIdSchema,
  subjectSchema,
} from './schemas';

const permissionsInput = z.array(z.string().min(1).max(200)).min(1).max(100);

/** Decisions for the current actor (and, for those who may read roles, for a named subject). */
export function addAuthzCheckRoutes(routes: ApiRoutes, { engine }: RouteDeps): void {
  addGuardedRoute(
    routes,
    engine,
    {
      method: 'post',
      path: '/v1/authz/check',
      summary: 'May the current actor do this in this tenant?',
      tags: ['authorization'],
      permission: 'authenticated',
      body: z.strictObject({ permission: z.string().min(1).max(200) }),
      responses: {
        200: {
          description: 'The decision',
          schema: z.object({ permission: z.string(), allowed: z.boolean() }),
        },
        ...problemResponses,
      },
    },
    async ({ body }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const allowed = await engine.allows(tenantId, actor, body.permission);
      res.json({ permission: body.permission, allowed });
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'post',
      path: '/v1/authz/check-batch',
      summary: 'Decisions for several permissions, for the current actor or a named subject',
      tags: ['authorization'],
      permission: 'authenticated',
      body: z.strictObject({
        permissions: permissionsInput,
        subject: z
          .strictObject({ type: assignableSubjectTypeSchema, id: subjectIdSchema })
          .optional(),
      }),
      responses: {
        200: {
          description: 'One decision per permission',
          schema: z.object({ subject: subjectSchema, decisions: decisionsSchema }),
        },
        ...problemResponses,
      },
    },
    async ({ body }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const subject = body.subject ?? actor;
      const self = subject.type === actor.type && subject.id === actor.id;
      // Asking about someone else reveals their access: only for those who may read roles.
      if (!self && !(await engine.allows(tenantId, actor, 'roles:read'))) {
        throw forbidden('Checking another subject needs the permission roles:read.');
      }
      const decisions = await engine.decide(tenantId, subject, body.permissions);
      res.json({ subject: { type: subject.type, id: subject.id }, decisions });
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/authz/permission-catalogue',
      summary: 'Every permission a role can hold',
      tags: ['authorization'],
      permission: 'authenticated',
      responses: {
        200: {
          description: 'The catalogue',
          schema: z.object({
            permissions: z.array(z.object({ name: z.string(), description: z.string() })),
          }),
        },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      res.json({
        permissions: Object.entries(PERMISSION_CATALOGUE).map(([name, description]) => ({
          name,
          description,
        })),
      });
    },
  );
}
