import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { badRequest, notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { authorizeOperator } from '../application/platform-access';
import { changeTenantStatus } from '../application/tenant-lifecycle/change-tenant-status';
import { deleteTenant } from '../application/tenant-lifecycle/delete-tenant';
import { TenantEntity } from '../persistence/entities/tenant.entity';
import { problem, tenantStatusSchema } from './response-schemas';

const tenantParams = z.strictObject({ tenantId: z.uuid() });

const tenantView = z.object({
  tenantId: z.string(),
  status: z.string(),
  name: z.string(),
  slug: z.string(),
  plan: z.string(),
  createdAt: z.string(),
  statusChangedAt: z.string(),
  statusReason: z.string().nullable(),
});

function viewOf(tenant: TenantEntity): z.infer<typeof tenantView> {
  return {
    tenantId: tenant.id,
    status: tenant.status,
    name: tenant.name,
    slug: tenant.slug,
    plan: tenant.plan,
    createdAt: tenant.createdAt.toISOString(),
    statusChangedAt: tenant.statusChangedAt.toISOString(),
    statusReason: tenant.statusReason,
  };
}

/**
 * Keyset cursor: the last tenant's id, opaque to clients. The page after it is compared with
 * that row's own (created_at, id), read in the query, so no timestamp is rounded through
 * JavaScript's milliseconds.
 */
function encodeCursor(tenant: TenantEntity): string {
  return Buffer.from(tenant.id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!z.uuid().safeParse(id).success) throw badRequest('The cursor is not one this API gave out.');
  return id;
}

/** What platform operators do: explicit, permission-checked, audited inside the tenant. */
export function platformRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/platform/tenants',
      summary: 'Every tenant, oldest first, optionally by status (operators; keyset pages)',
      tags: ['platform'],
      permission: 'platform.tenants:read',
      query: z.strictObject({
        status: z.enum(['active', 'suspended', 'deleted']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        after: z.string().max(200).optional(),
      }),
      responses: {
        200: {
          description: 'A page of tenants; `next` is the cursor of the following page, if any',
          schema: z.object({ tenants: z.array(tenantView), next: z.string().nullable() }),
        },
        400: problem('A bad filter, limit or cursor'),
        403: problem('Not an operator with this permission'),
      },
    },
    async ({ query }, _req, res) => {
      await authorizeOperator(deps, 'tenants:read');
      const after = query.after === undefined ? undefined : decodeCursor(query.after);
      const builder = deps.dataSource.manager
        .createQueryBuilder(TenantEntity, 't')
        .orderBy('t.created_at', 'ASC')
        .addOrderBy('t.id', 'ASC')
        .limit(query.limit + 1);
      if (query.status) builder.andWhere('t.status = :status', { status: query.status });
      if (after) {
        builder.andWhere(
          '(t.created_at, t.id) > (SELECT c.created_at, c.id FROM tenants c WHERE c.id = :after)',
          { after },
        );
      }
      const rows = await builder.getMany();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      res.json({
        tenants: page.map(viewOf),
        next: rows.length > query.limit && last ? encodeCursor(last) : null,
      });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/platform/tenants/:tenantId',
      summary: 'A tenant as the platform sees it (operators)',
      tags: ['platform'],
      permission: 'platform.tenants:read',
      params: tenantParams,
      responses: {
        200: { description: 'The tenant', schema: tenantView },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      await authorizeOperator(deps, 'tenants:read');
      const tenant = await deps.dataSource.manager.findOneBy(TenantEntity, { id: params.tenantId });
      if (!tenant) throw notFound('No such tenant.');
      res.json(viewOf(tenant));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/tenants/:tenantId/suspend',
      summary: 'Suspend a tenant: its tokens and keys are refused with 403 until resumed',
      tags: ['platform'],
      permission: 'platform.tenants:suspend',
      params: tenantParams,
      body: z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }),
      responses: {
        200: { description: 'Suspended', schema: tenantStatusSchema },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
        409: problem('The tenant is deleted'),
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await changeTenantStatus(deps, params.tenantId, 'suspended', body.reason ?? null));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/tenants/:tenantId/resume',
      summary: 'Resume a suspended tenant',
      tags: ['platform'],
      permission: 'platform.tenants:resume',
      params: tenantParams,
      responses: {
        200: { description: 'Active again', schema: tenantStatusSchema },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
        409: problem('The tenant is deleted'),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await changeTenantStatus(deps, params.tenantId, 'active', null));
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/platform/tenants/:tenantId',
      summary: 'Delete a tenant (offboarding: every service purges its data)',
      tags: ['platform'],
      permission: 'platform.tenants:delete',
      params: tenantParams,
      responses: {
        200: { description: 'Deleted', schema: tenantStatusSchema },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await deleteTenant(deps, params.tenantId));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/signing-keys/rotate',
      summary: 'Add a new token signing key; the current one retires when it activates',
      tags: ['platform'],
      permission: 'platform.signing-keys:rotate',
      responses: {
        201: { description: 'The new key id', schema: z.object({ kid: z.string() }) },
        403: problem('Not an operator with this permission'),
      },
    },
    async (_input, _req, res) => {
      const operator = await authorizeOperator(deps, 'signing-keys:rotate');
      const kid = await deps.signingKeys.rotate(deps.config.signingKeyPublishLeadSeconds);
      deps.logger.info('signing key rotated', { kid, operator_id: operator.id });
      res.status(201).json({ kid });
    },
  );
}
