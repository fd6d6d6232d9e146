import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { authorizeOperator } from '../application/platform-access';
import { changeTenantStatus } from '../application/tenant-lifecycle/change-tenant-status';
import { deleteTenant } from '../application/tenant-lifecycle/delete-tenant';
import { TenantEntity } from '../persistence/entities/tenant.entity';
import { problem, tenantStatusSchema } from './response-schemas';

const tenantParams = z.strictObject({ tenantId: z.uuid() });

/** What platform operators do: explicit, permission-checked, audited inside the tenant. */
export function platformRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/platform/tenants/:tenantId',
      summary: 'A tenant as the platform sees it (operators)',
      tags: ['platform'],
      permission: 'platform.tenants:read',
      params: tenantParams,
      responses: {
        200: {
          description: 'The tenant',
          schema: tenantStatusSchema.extend({
            name: z.string(),
            slug: z.string(),
            plan: z.string(),
            createdAt: z.string(),
            statusChangedAt: z.string(),
            statusReason: z.string().nullable(),
          }),
        },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      await authorizeOperator(deps, 'tenants:read');
      const tenant = await deps.dataSource.manager.findOneBy(TenantEntity, { id: params.tenantId });
      if (!tenant) throw notFound('No such tenant.');
      res.json({
        tenantId: tenant.id,
        status: tenant.status,
        name: tenant.name,
        slug: tenant.slug,
        plan: tenant.plan,
        createdAt: tenant.createdAt.toISOString(),
        statusChangedAt: tenant.statusChangedAt.toISOString(),
        statusReason: tenant.statusReason,
      });
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
