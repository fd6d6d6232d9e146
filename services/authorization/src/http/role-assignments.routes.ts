import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { withCurrentTenant } from '@tenantry/db';
import { requireTenantContext } from '@tenantry/tenancy';
import { assignRole } from '../application/assign-role/assign-role';
import { revokeRole } from '../application/revoke-role/revoke-role';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import {
  assignableSubjectTypeSchema,
  assignmentSchema,
  problemResponses,
  roleNameSchema,
  subjectIdSchema,
} from './schemas';

const assignmentParams = z.strictObject({
  subjectType: assignableSubjectTypeSchema,
  subjectId: subjectIdSchema,
  roleName: roleNameSchema,
});
const PATH = '/v1/role-assignments/:subjectType/:subjectId/roles/:roleName';

/** Who holds which role: members (users) and API keys of the tenant. */
export function addRoleAssignmentsRoutes(routes: ApiRoutes, deps: RouteDeps): void {
  const { engine, dataSource, repository, useCases } = deps;

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/role-assignments',
      summary: 'List role assignments (filter by subject or role)',
      tags: ['roles'],
      permission: 'roles:read',
      query: z.strictObject({
        subjectType: assignableSubjectTypeSchema.optional(),
        subjectId: subjectIdSchema.optional(),
        role: roleNameSchema.optional(),
      }),
      responses: {
        200: {
          description: 'Assignments (at most 1000)',
          schema: z.object({ assignments: z.array(assignmentSchema) }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const assignments = await withCurrentTenant(dataSource, (tx) =>
        repository.listAssignments(tx, query),
      );
      res.json({ assignments });
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'put',
      path: PATH,
      summary: 'Assign a role (only one whose permissions you all hold); idempotent',
      tags: ['roles'],
      permission: 'roles:assign',
      params: assignmentParams,
      responses: {
        200: {
          description: 'Assigned (created: false when it was already held)',
          schema: z.object({
            subjectType: z.string(),
            subjectId: z.string(),
            role: z.string(),
            created: z.boolean(),
          }),
        },
        404: { description: 'No such role, member or API key' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const input = {
        subjectType: params.subjectType,
        subjectId: params.subjectId,
        role: params.roleName,
      };
      const { created } = await withCurrentTenant(dataSource, (tx) =>
        assignRole(tx, useCases, actor, input),
      );
      engine.invalidate(tenantId);
      res.json({ ...input, created });
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'delete',
      path: PATH,
      summary: 'Revoke a role (never the last owner’s)',
      tags: ['roles'],
      permission: 'roles:assign',
      params: assignmentParams,
      responses: {
        204: { description: 'Revoked' },
        404: { description: 'Not held' },
        409: { description: 'It is the tenant’s last owner' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      await withCurrentTenant(dataSource, (tx) =>
        revokeRole(tx, useCases, actor, {
          subjectType: params.subjectType,
          subjectId: params.subjectId,
          role: params.roleName,
        }),
      );
      engine.invalidate(tenantId);
      res.status(204).end();
    },
  );
}
