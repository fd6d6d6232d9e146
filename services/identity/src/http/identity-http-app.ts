import type { Express } from 'express';
import { ApiRoutes } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { apiKeysRoutes } from './api-keys.routes';
import { authRoutes } from './auth.routes';
import { internalRoutes } from './internal.routes';
import { invitationsRoutes } from './invitations.routes';
import { jwksRoutes } from './jwks.routes';
import { meRoutes } from './me.routes';
import { membersRoutes } from './members.routes';
import { platformRoutes } from './platform.routes';
import { tenantRoutes } from './tenant.routes';

export interface IdentityHttpApi {
  /** The public API (what the gateway exposes and merges into its document). */
  readonly routes: ApiRoutes;
  /** Routes only platform services call; not in the public document. */
  readonly internal: ApiRoutes;
  /** Mounts both on the service's app (behind the trust boundary the runtime puts first). */
  configure(app: Express): void;
}

/** Identity's HTTP side: public, tenant, platform and internal routes behind the trust boundary. */
export function createIdentityHttpApi(deps: IdentityDeps): IdentityHttpApi {
  const routes = new ApiRoutes({ title: 'Tenantry identity', version: '1.0.0' });
  authRoutes(routes, deps);
  jwksRoutes(routes, deps);
  meRoutes(routes, deps);
  membersRoutes(routes, deps);
  invitationsRoutes(routes, deps);
  apiKeysRoutes(routes, deps);
  platformRoutes(routes, deps);
  tenantRoutes(routes, deps);
  routes.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This OpenAPI document',
      tags: ['meta'],
      permission: 'public',
      responses: { 200: { description: 'OpenAPI 3.1' } },
    },
    async (_input, _req, res) => {
      res.json(routes.openApi());
    },
  );
  const internal = new ApiRoutes({ title: 'Tenantry identity (internal)', version: '1.0.0' });
  internalRoutes(internal, deps);

  return {
    routes,
    internal,
    configure(app) {
      // Behind the gateway, the client's address is in X-Forwarded-For (for login rate limits).
      app.set('trust proxy', deps.config.trustProxy);
      routes.mount(app);
      internal.mount(app);
    },
  };
}
