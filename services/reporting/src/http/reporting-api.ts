import type { ApiRoutesOptions } from '@tenantry/http';
import { ApiRoutes } from '@tenantry/http';
import { addActivityRoutes } from './activity.routes';
import { addBillingRoutes } from './billing.routes';
import { addMembersRoutes } from './members.routes';
import { addPlatformRoutes } from './platform.routes';
import type { ExportRouteDeps } from './exports.routes';
import { addExportRoutes } from './exports.routes';
import { addUsageRoutes } from './usage.routes';

export interface ReportingApi {
  /** Served to clients through the gateway; its summaries feed the gateway's permission table. */
  readonly publicRoutes: ApiRoutes;
  /** `GET /openapi.json` (public): the public routes' document. */
  readonly metaRoutes: ApiRoutes;
}

export function reportingApi(deps: ExportRouteDeps, options: ApiRoutesOptions = {}): ReportingApi {
  const info = { title: 'Tenantry reporting', version: '1' };
  const publicRoutes = new ApiRoutes(info, options);
  addUsageRoutes(publicRoutes, deps);
  addMembersRoutes(publicRoutes, deps);
  addBillingRoutes(publicRoutes, deps);
  addActivityRoutes(publicRoutes, deps);
  addExportRoutes(publicRoutes, deps);
  addPlatformRoutes(publicRoutes, deps);
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
