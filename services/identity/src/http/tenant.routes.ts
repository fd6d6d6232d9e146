import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { requestOwnTenantDeletion } from '../application/tenant-lifecycle/request-tenant-deletion';
import { offboardingView, problem } from './response-schemas';

/** The current tenant itself, as its owners act on it. */
export function tenantRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/v1/tenants/current/deletion',
      summary:
        'Delete the current tenant (owners): refused at once, purged by every service after the grace period; only a platform operator can cancel (docs/adr/0016)',
      tags: ['tenant'],
      permission: 'tenant:delete',
      body: z.strictObject({
        /** The tenant's slug, typed by the owner: a deletion is never one stray click. */
        confirmSlug: z.string().min(1).max(200),
      }),
      responses: {
        200: { description: 'Deletion requested (or already under way)', schema: offboardingView },
        403: problem('Not an owner of this tenant, or the tenant is not active'),
        409: problem('confirmSlug is not this tenant’s slug'),
      },
    },
    async ({ body }, _req, res) => {
      res.json(await requestOwnTenantDeletion(deps, body.confirmSlug));
    },
  );
}
