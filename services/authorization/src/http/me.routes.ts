import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import { problemResponses, subjectSchema } from './schemas';

/** What the current actor holds in this tenant, for UIs to show or hide what it cannot do. */
export function addMeRoutes(routes: ApiRoutes, { engine }: RouteDeps): void {
  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/me/permissions',
      summary: 'The current actor’s roles and permissions in this tenant',
      tags: ['authorization'],
      permission: 'authenticated',
      responses: {
        200: {
          description: 'Roles and permissions',
          schema: z.object({
            tenantId: z.string(),
            subject: subjectSchema,
            roles: z.array(z.string()),
            permissions: z.array(z.string()),
          }),
        },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const [roles, permissions] = await Promise.all([
        engine.rolesOf(tenantId, actor),
        engine.permissionsOf(tenantId, actor),
      ]);
      res.setHeader('cache-control', 'private, max-age=5');
      res.json({
        tenantId,
        subject: { type: actor.type, id: actor.id },
        roles,
        permissions: [...permissions].sort(),
      });
    },
  );
}
