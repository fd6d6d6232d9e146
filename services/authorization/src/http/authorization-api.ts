import { ApiRoutes } from '@tenantry/http';
import { addAuditLogRoutes } from './audit-log.routes';
import { addAuthzCheckRoutes } from './authz-check.routes';
import { addInternalAuthzCheckRoutes } from './internal-authz-check.routes';
import { addMeRoutes } from './me.routes';
import { addRoleAssignmentsRoutes } from './role-assignments.routes';
import { addRolesRoutes } from './roles.routes';
import type { RouteDeps } from './route-deps';

export interface AuthorizationApi {
  /** Served to clients through the gateway; its summaries feed the gateway's permission table. */
  readonly publicRoutes: ApiRoutes;
  /** Service-to-service only; the gateway never routes clients here. */
  readonly internalRoutes: ApiRoutes;
  /** `GET /openapi.json` (public): the public routes' document, which the gateway fetches. */
  readonly metaRoutes: ApiRoutes;
}

export function authorizationApi(deps: RouteDeps): AuthorizationApi {
  const info = { title: 'Tenantry authorization', version: '1' };
  const publicRoutes = new ApiRoutes(info);
  addAuthzCheckRoutes(publicRoutes, deps);
  addMeRoutes(publicRoutes, deps);
  addRolesRoutes(publicRoutes, deps);
  addRoleAssignmentsRoutes(publicRoutes, deps);
  addAuditLogRoutes(publicRoutes, deps);
  const internalRoutes = new ApiRoutes({ ...info, title: `${info.title} (internal)` });
  addInternalAuthzCheckRoutes(internalRoutes, deps);
  // Apart from the public routes so that their document (and the route matrix built from their
  // summaries) lists only the API itself.
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
  return { publicRoutes, internalRoutes, metaRoutes };
}
