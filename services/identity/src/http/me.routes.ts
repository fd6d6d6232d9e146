import { z } from 'zod';
import { withCurrentTenant } from '@tenantry/db';
import type { ApiRoutes } from '@tenantry/http';
import { forbidden } from '@tenantry/http';
import { currentTenantContext } from '@tenantry/tenancy';
import type { IdentityDeps } from '../application/identity-deps';
import { authorizeTenantActor } from '../application/tenant-access';
import { roleSchema } from '../domain/roles';
import { UserEntity } from '../persistence/entities/user.entity';
import { problem } from './response-schemas';

/** `GET /v1/me`: who the caller is in the current tenant. */
export function meRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/me',
      summary: 'The calling user or API key, with its role in the current tenant',
      tags: ['members'],
      permission: 'authenticated',
      responses: {
        200: {
          description: 'The caller',
          schema: z.object({
            actorType: z.enum(['user', 'api_key']),
            id: z.uuid(),
            tenantId: z.uuid(),
            role: roleSchema,
            email: z.string().optional(),
            displayName: z.string().optional(),
          }),
        },
        403: problem('Not a member, or the tenant is not active'),
      },
    },
    async (_input, _req, res) => {
      if (currentTenantContext()?.actor.type === 'operator') {
        throw forbidden('Operators act on tenants through /v1/platform routes.');
      }
      const me = await withCurrentTenant(deps.dataSource, async (tx) => {
        const who = await authorizeTenantActor(tx, 'authenticated');
        const base = {
          actorType: who.actor.type,
          id: who.actor.id,
          tenantId: tx.tenantId,
          role: who.role,
        };
        if (who.actor.type !== 'user') return base;
        const user = await tx.manager.findOneBy(UserEntity, { id: who.actor.id });
        return { ...base, email: user?.email, displayName: user?.displayName };
      });
      res.json(me);
    },
  );
}
