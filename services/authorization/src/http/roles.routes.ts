import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import { withCurrentTenant } from '@tenantry/db';
import { requireTenantContext } from '@tenantry/tenancy';
import { createRole } from '../application/create-role/create-role';
import { deleteRole } from '../application/delete-role/delete-role';
import { updateRole } from '../application/update-role/update-role';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import {
  customRoleNameSchema,
  permissionSchema,
  problemResponses,
  roleNameSchema,
  roleSchema,
} from './schemas';

const roleParams = z.strictObject({ roleName: roleNameSchema });
const roleBody = {
  description: z.string().max(500).default(''),
  permissions: z.array(permissionSchema).max(200),
};
const changeResponses = {
  ...problemResponses,
  404: { description: 'No such role' },
  409: { description: 'Conflicts with the tenant’s roles' },
} as const;

/** The tenant's roles: built-in ones (read-only) and custom ones from the catalogue. */
export function addRolesRoutes(routes: ApiRoutes, deps: RouteDeps): void {
  const { engine, dataSource, repository, useCases } = deps;

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/roles',
      summary: 'List the tenant’s roles with their permissions',
      tags: ['roles'],
      permission: 'roles:read',
      responses: {
        200: { description: 'The roles', schema: z.object({ roles: z.array(roleSchema) }) },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      const roles = await withCurrentTenant(dataSource, (tx) => repository.listRoles(tx));
      res.json({ roles });
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/roles/:roleName',
      summary: 'One role with its permissions',
      tags: ['roles'],
      permission: 'roles:read',
      params: roleParams,
      responses: {
        200: { description: 'The role', schema: roleSchema },
        404: { description: 'No such role' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      const role = await withCurrentTenant(dataSource, (tx) =>
        repository.findRole(tx, params.roleName),
      );
      if (!role) throw notFound(`No role "${params.roleName}".`);
      res.json(role);
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'post',
      path: '/v1/roles',
      summary: 'Create a custom role (only from permissions you hold)',
      tags: ['roles'],
      permission: 'roles:manage',
      body: z.strictObject({ name: customRoleNameSchema, ...roleBody }),
      responses: { 201: { description: 'Created', schema: roleSchema }, ...changeResponses },
    },
    async ({ body }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const role = await withCurrentTenant(dataSource, (tx) =>
        createRole(tx, useCases, actor, body),
      );
      engine.invalidate(tenantId);
      res.status(201).location(`/v1/roles/${role.name}`).json(role);
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'put',
      path: '/v1/roles/:roleName',
      summary: 'Replace a custom role’s description and permissions',
      tags: ['roles'],
      permission: 'roles:manage',
      params: roleParams,
      body: z.strictObject(roleBody),
      responses: { 200: { description: 'Changed', schema: roleSchema }, ...changeResponses },
    },
    async ({ params, body }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      const role = await withCurrentTenant(dataSource, (tx) =>
        updateRole(tx, useCases, actor, { name: params.roleName, ...body }),
      );
      engine.invalidate(tenantId);
      res.json(role);
    },
  );

  addGuardedRoute(
    routes,
    engine,
    {
      method: 'delete',
      path: '/v1/roles/:roleName',
      summary: 'Delete a custom role nobody holds',
      tags: ['roles'],
      permission: 'roles:manage',
      params: roleParams,
      responses: { 204: { description: 'Deleted' }, ...changeResponses },
    },
    async ({ params }, _req, res) => {
      const { tenantId, actor } = requireTenantContext();
      await withCurrentTenant(dataSource, (tx) => deleteRole(tx, useCases, actor, params.roleName));
      engine.invalidate(tenantId);
      res.status(204).end();
    },
  );
}
