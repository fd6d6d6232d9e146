import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { forbidden, notFound } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import type { IdentityDeps } from '../application/identity-deps';
import { verifyApiKey } from '../application/manage-api-keys/verify-api-key';
import { publicStatusOf } from '../domain/tenant-lifecycle';
import { isUuid } from '../domain/uuid';
import { TenantEntity } from '../persistence/entities/tenant.entity';
import { problem, tenantStatusSchema } from './response-schemas';

/** Internal routes serve platform services (the gateway), never a tenant's user or key. */
function requireServiceActor(): void {
  if (requireTenantContext('an internal route').actor.type !== 'service') {
    throw forbidden('Internal routes serve platform services only.');
  }
}

/** What the gateway calls to authenticate API keys and check tenants. Kept out of the public document. */
export function internalRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/internal/v1/api-keys/verify',
      summary: 'Verify an API key (gateway only)',
      tags: ['internal'],
      permission: 'api-keys:verify',
      body: z.strictObject({ key: z.string().min(1).max(512) }),
      responses: {
        200: {
          description: 'The key is valid',
          schema: z.object({
            apiKeyId: z.uuid(),
            tenantId: z.uuid(),
            role: z.string(),
            expiresAt: z.string().nullable(),
            tenantStatus: tenantStatusSchema.shape.status,
          }),
        },
        401: problem('Unknown, wrong, revoked or expired key'),
        403: problem('Caller is not a platform service'),
      },
    },
    async ({ body }, _req, res) => {
      requireServiceActor();
      res.setHeader('cache-control', 'no-store');
      res.json(await verifyApiKey(deps, body.key));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/internal/v1/tenants/:tenantId/status',
      summary: 'A tenant’s status (gateway only)',
      tags: ['internal'],
      permission: 'tenants:status',
      params: z.strictObject({ tenantId: z.string().max(64) }),
      responses: {
        200: { description: 'The status', schema: tenantStatusSchema },
        403: problem('Caller is not a platform service'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      requireServiceActor();
      const tenant = isUuid(params.tenantId)
        ? await deps.dataSource.manager.findOneBy(TenantEntity, { id: params.tenantId })
        : null;
      if (!tenant) throw notFound('No such tenant.');
      // A tenant in its deletion grace period is refused like a suspended one; purging, like deleted.
      res.json({ tenantId: tenant.id, status: publicStatusOf(tenant.status) });
    },
  );
}
