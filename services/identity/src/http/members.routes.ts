import { z } from 'zod';
import type { TenantTransaction } from '@tenantry/db';
import { withCurrentTenant } from '@tenantry/db';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { removeMember } from '../application/manage-members/remove-member';
import { authorizeTenantActor } from '../application/tenant-access';
import { memberSchema, problem } from './response-schemas';

interface MemberRow {
  user_id: string;
  email: string;
  display_name: string;
  role: z.infer<typeof memberSchema>['role'];
  created_at: Date;
}

const toMember = (row: MemberRow): z.infer<typeof memberSchema> => ({
  userId: row.user_id,
  email: row.email,
  displayName: row.display_name,
  role: row.role,
  joinedAt: row.created_at.toISOString(),
});

/** Members of the current tenant (row-level security scopes `memberships`; users are global). */
async function members(tx: TenantTransaction, userId?: string): Promise<MemberRow[]> {
  return (await tx.manager.query(
    `SELECT m.user_id, u.email, u.display_name, m.role, m.created_at
     FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.tenant_id = $1 AND ($2::uuid IS NULL OR m.user_id = $2::uuid)
     ORDER BY m.created_at, u.email`,
    [tx.tenantId, userId ?? null],
  )) as MemberRow[];
}

const userParams = z.strictObject({ userId: z.uuid() });

export function membersRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/members',
      summary: 'List the members of the current tenant',
      tags: ['members'],
      permission: 'members:read',
      responses: {
        200: { description: 'Members', schema: z.object({ items: z.array(memberSchema) }) },
        403: problem('Not allowed'),
      },
    },
    async (_input, _req, res) => {
      const rows = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'members:read');
        return members(tx);
      });
      res.json({ items: rows.map(toMember) });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/members/:userId',
      summary: 'One member of the current tenant',
      tags: ['members'],
      permission: 'members:read',
      params: userParams,
      responses: {
        200: { description: 'The member', schema: memberSchema },
        404: problem('No such member in this tenant'),
      },
    },
    async ({ params }, _req, res) => {
      const [row] = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'members:read');
        return members(tx, params.userId);
      });
      if (!row) throw notFound('No such member.');
      res.json(toMember(row));
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/members/:userId',
      summary: 'Remove a member from the current tenant (ends their sessions here)',
      tags: ['members'],
      permission: 'members:remove',
      params: userParams,
      responses: {
        204: { description: 'Removed' },
        403: problem('Not allowed (admins cannot remove owners)'),
        404: problem('No such member in this tenant'),
        409: problem('The last owner cannot be removed'),
      },
    },
    async ({ params }, _req, res) => {
      await removeMember(deps, params.userId);
      res.status(204).end();
    },
  );
}
