import { z } from 'zod';
import { INTERNAL_AUTHZ_CHECK_PATH } from '@tenantry/contracts';
import type { InternalAuthzCheckResponse } from '@tenantry/contracts';
import type { ApiRoutes } from '@tenantry/http';
import { forbidden } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import { decisionsSchema, problemResponses, subjectIdSchema } from './schemas';

/**
 * The decision endpoint the gateway calls for every request it forwards. Only platform services
 * (a signed context whose actor is a `service`) may ask about any tenant; it is never exposed
 * through the gateway. When the policy cannot be loaded the answer is 503: refuse, never allow.
 */
export function addInternalAuthzCheckRoutes(routes: ApiRoutes, { engine }: RouteDeps): void {
  addGuardedRoute(
    routes,
    engine,
    {
      method: 'post',
      path: INTERNAL_AUTHZ_CHECK_PATH,
      summary: 'Decisions for a subject in a tenant (services only)',
      tags: ['internal'],
      permission: 'authenticated',
      body: z.strictObject({
        tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
        subject: z.strictObject({
          type: z.enum(['user', 'api_key', 'operator']),
          id: subjectIdSchema,
        }),
        permissions: z.array(z.string().min(1).max(200)).min(1).max(100),
      }),
      responses: {
        200: {
          description: 'One decision per permission',
          schema: z.object({ decisions: decisionsSchema }),
        },
        ...problemResponses,
      },
    },
    async ({ body }, _req, res) => {
      if (requireTenantContext().actor.type !== 'service') {
        throw forbidden('Only platform services may call the internal decision endpoint.');
      }
      const response: InternalAuthzCheckResponse = {
        decisions: await engine.decide(body.tenantId, body.subject, body.permissions),
      };
      res.setHeader('cache-control', 'no-store');
      res.json(response);
    },
  );
}
