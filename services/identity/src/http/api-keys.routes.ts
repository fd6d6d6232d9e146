import { z } from 'zod';
import { withCurrentTenant } from '@tenantry/db';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { createApiKey } from '../application/manage-api-keys/create-api-key';
import { revokeApiKey } from '../application/manage-api-keys/revoke-api-key';
import { authorizeTenantActor } from '../application/tenant-access';
import { grantableRoleSchema } from '../domain/roles';
import { ApiKeyEntity } from '../persistence/entities/api-key.entity';
import { apiKeySchema, problem } from './response-schemas';

function toApiKey(row: ApiKeyEntity): z.infer<typeof apiKeySchema> {
  const status = row.revokedAt
    ? 'revoked'
    : row.expiresAt && row.expiresAt <= new Date()
      ? 'expired'
      : 'active';
  return {
    apiKeyId: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    status,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

const keyParams = z.strictObject({ apiKeyId: z.uuid() });

export function apiKeysRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/v1/api-keys',
      summary: 'Create an API key for a machine client (the key is shown once)',
      tags: ['api-keys'],
      permission: 'api-keys:create',
      body: z.strictObject({
        name: z.string().trim().min(1).max(100),
        role: grantableRoleSchema,
        expiresAt: z.iso.datetime({ offset: true }).optional(),
      }),
      responses: {
        201: {
          description: 'The key, with its secret, this once',
          schema: apiKeySchema
            .pick({ apiKeyId: true, name: true, prefix: true, role: true, createdAt: true })
            .extend({ key: z.string(), expiresAt: z.string().nullable() }),
        },
        400: problem('Invalid body, or expiry in the past'),
        403: problem('Not allowed'),
      },
    },
    async ({ body }, _req, res) => {
      const expiresAt = body.expiresAt === undefined ? undefined : new Date(body.expiresAt);
      res.setHeader('cache-control', 'no-store');
      res.status(201).json(await createApiKey(deps, { ...body, expiresAt }));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/api-keys',
      summary: 'List the API keys of the current tenant (never their secrets)',
      tags: ['api-keys'],
      permission: 'api-keys:read',
      responses: {
        200: { description: 'Keys', schema: z.object({ items: z.array(apiKeySchema) }) },
        403: problem('Not allowed'),
      },
    },
    async (_input, _req, res) => {
      const rows = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'api-keys:read');
        return tx.manager.find(ApiKeyEntity, { order: { createdAt: 'DESC' } });
      });
      res.json({ items: rows.map(toApiKey) });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/api-keys/:apiKeyId',
      summary: 'One API key of the current tenant',
      tags: ['api-keys'],
      permission: 'api-keys:read',
      params: keyParams,
      responses: {
        200: { description: 'The key (no secret)', schema: apiKeySchema },
        404: problem('No such key in this tenant'),
      },
    },
    async ({ params }, _req, res) => {
      const row = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'api-keys:read');
        return tx.manager.findOneBy(ApiKeyEntity, { id: params.apiKeyId });
      });
      if (!row) throw notFound('No such API key.');
      res.json(toApiKey(row));
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/api-keys/:apiKeyId',
      summary: 'Revoke an API key (refused on every route within 1 s)',
      tags: ['api-keys'],
      permission: 'api-keys:revoke',
      params: keyParams,
      responses: {
        204: {
          description:
            'Revoked (or already was): every gateway route answers 401 for it within 1 s, ' +
            'typically tens of milliseconds',
        },
        404: problem('No such key in this tenant'),
      },
    },
    async ({ params }, _req, res) => {
      await revokeApiKey(deps, params.apiKeyId);
      res.status(204).end();
    },
  );
}
