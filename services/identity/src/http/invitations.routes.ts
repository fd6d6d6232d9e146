import { z } from 'zod';
import { withCurrentTenant } from '@tenantry/db';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { acceptInvitation } from '../application/manage-invitations/accept-invitation';
import { createInvitation } from '../application/manage-invitations/create-invitation';
import { revokeInvitation } from '../application/manage-invitations/revoke-invitation';
import { authorizeTenantActor } from '../application/tenant-access';
import { emailSchema } from '../domain/email-address';
import { grantableRoleSchema, roleSchema } from '../domain/roles';
import { InvitationEntity } from '../persistence/entities/invitation.entity';
import { requestMetaOf } from './request-meta';
import { invitationSchema, problem } from './response-schemas';

function toInvitation(row: InvitationEntity): z.infer<typeof invitationSchema> {
  const status = row.acceptedAt
    ? 'accepted'
    : row.revokedAt
      ? 'revoked'
      : row.expiresAt <= new Date()
        ? 'expired'
        : 'pending';
  return {
    invitationId: row.id,
    email: row.email,
    role: row.role,
    status,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  };
}

const invitationParams = z.strictObject({ invitationId: z.uuid() });

export function invitationsRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/v1/invitations',
      summary: 'Invite someone into the current tenant (the token is returned once)',
      tags: ['invitations'],
      permission: 'members:invite',
      body: z.strictObject({ email: emailSchema, role: grantableRoleSchema }),
      responses: {
        201: {
          description: 'Invitation created',
          schema: invitationSchema.omit({ status: true }).extend({ token: z.string() }),
        },
        403: problem('Not allowed'),
        409: problem('Already a member'),
      },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(await createInvitation(deps, body));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/invitations',
      summary: 'List the invitations of the current tenant',
      tags: ['invitations'],
      permission: 'members:read',
      responses: {
        200: { description: 'Invitations', schema: z.object({ items: z.array(invitationSchema) }) },
        403: problem('Not allowed'),
      },
    },
    async (_input, _req, res) => {
      const rows = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'members:read');
        return tx.manager.find(InvitationEntity, { order: { createdAt: 'DESC' } });
      });
      res.json({ items: rows.map(toInvitation) });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/invitations/:invitationId',
      summary: 'One invitation of the current tenant',
      tags: ['invitations'],
      permission: 'members:read',
      params: invitationParams,
      responses: {
        200: { description: 'The invitation', schema: invitationSchema },
        404: problem('No such invitation in this tenant'),
      },
    },
    async ({ params }, _req, res) => {
      const row = await withCurrentTenant(deps.dataSource, async (tx) => {
        await authorizeTenantActor(tx, 'members:read');
        return tx.manager.findOneBy(InvitationEntity, { id: params.invitationId });
      });
      if (!row) throw notFound('No such invitation.');
      res.json(toInvitation(row));
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/invitations/:invitationId',
      summary: 'Revoke an open invitation',
      tags: ['invitations'],
      permission: 'members:remove',
      params: invitationParams,
      responses: {
        204: { description: 'Revoked (or already was)' },
        404: problem('No such invitation in this tenant'),
        409: problem('Already accepted'),
      },
    },
    async ({ params }, _req, res) => {
      await revokeInvitation(deps, params.invitationId);
      res.status(204).end();
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/invitations/accept',
      summary: 'Accept an invitation (token in the body, so it stays out of access logs)',
      tags: ['invitations'],
      permission: 'public',
      body: z.strictObject({
        token: z.string().min(1).max(512),
        password: z.string().min(12).max(256),
        displayName: z.string().trim().min(1).max(100).optional(),
      }),
      responses: {
        201: {
          description: 'Now a member',
          schema: z.object({
            invitationId: z.uuid(),
            tenantId: z.uuid(),
            userId: z.uuid(),
            role: roleSchema,
          }),
        },
        401: problem('The invited email has an account and this is not its password'),
        404: problem('Unknown invitation'),
        409: problem('Already a member'),
        410: problem('Invitation used, revoked or expired'),
      },
    },
    async ({ body }, req, res) => {
      res.status(201).json(await acceptInvitation(deps, body, requestMetaOf(req)));
    },
  );
}
