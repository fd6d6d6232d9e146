import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';

/** The public keys that verify identity's access tokens (current, upcoming and retiring). */
export function jwksRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/.well-known/jwks.json',
      summary: 'JSON Web Key Set of the access-token signing keys',
      tags: ['auth'],
      permission: 'public',
      responses: {
        200: {
          description: 'RFC 7517 key set',
          schema: z.object({ keys: z.array(z.record(z.string(), z.string())) }),
        },
      },
    },
    async (_input, _req, res) => {
      // Short: new keys are published ahead of use, so a minute of caching loses nothing.
      res.setHeader('cache-control', 'public, max-age=60');
      res.json(await deps.signingKeys.jwks());
    },
  );
}
