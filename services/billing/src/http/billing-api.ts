import type { ApiRoutesOptions } from '@tenantry/http';
import { ApiRoutes } from '@tenantry/http';
import { addInvoiceRoutes } from './invoices.routes';
import { addPlanRoutes } from './plans.routes';
import type { RouteDeps } from './route-deps';
import { addSubscriptionRoutes } from './subscription.routes';
import { addUsageRoutes } from './usage.routes';

export interface BillingApi {
  /** Served to clients through the gateway; its summaries feed the gateway's permission table. */
  readonly publicRoutes: ApiRoutes;
  /** `GET /openapi.json` (public): the public routes' document. */
  readonly metaRoutes: ApiRoutes;
}

export function billingApi(deps: RouteDeps, options: ApiRoutesOptions = {}): BillingApi {
  const info = { title: 'Tenantry billing', version: '1' };
  const publicRoutes = new ApiRoutes(info, options);
  addPlanRoutes(publicRoutes, deps);
  addSubscriptionRoutes(publicRoutes, deps);
  addUsageRoutes(publicRoutes, deps);
  addInvoiceRoutes(publicRoutes, deps);
  const metaRoutes = new ApiRoutes({ ...info, title: `${info.title} (meta)` });
  metaRoutes.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'The OpenAPI document of the public routes',
      tags: ['meta'],
      permission: 'public',
      responses: { 200: { description: 'OpenAPI 3.1' } },
    },
    async (_input, _req, res) => {
      res.json(publicRoutes.openApi());
    },
  );
  return { publicRoutes, metaRoutes };
}
