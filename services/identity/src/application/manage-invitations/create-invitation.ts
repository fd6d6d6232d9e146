import { randomUUID } from 'node:crypto';
import type { BuiltInRole } from '@tenantry/contracts';
import { InvitationCreatedEvent } from '@tenantry/contracts';
import { withCurrentTenant } from '@tenantry/db';
import { conflict, forbidden } from '@tenantry/http';
import { accessPolicy } from '../../domain/access-policy';
import { tenantBoundToken } from '../../domain/secret-token';
import { recordAudit } from '../../persistence/audit-trail';
import { InvitationEntity } from '../../persistence/entities/invitation.entity';
import type { IdentityDeps } from '../identity-deps';
import { authorizeTenantActor } from '../tenant-access';

export interface CreatedInvitation {
  readonly invitationId: string;
  readonly email: string;
  readonly role: BuiltInRole;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Single-use; returned once, to be delivered to the invitee. Only its hash is stored. */
  readonly token: string;
}

/** Invites `email` into the current tenant with `role` (owners and admins; admins not as owner). */
export async function createInvitation(
  deps: IdentityDeps,
  input: { email: string; role: BuiltInRole },
): Promise<CreatedInvitation> {
  return withCurrentTenant(deps.dataSource, async (tx) => {
    const who = await authorizeTenantActor(tx, 'invitations:create');
    if (!accessPolicy.canManageRole(who.role, input.role)) {
      throw forbidden(`A ${who.role} cannot invite a ${input.role}.`);
    }
    const [member] = (await tx.manager.query(
      `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1`,
      [input.email],
    )) as unknown[];
    if (member) throw conflict('This person is already a member of the tenant.');
    const { token, hash } = tenantBoundToken.issue('inv', tx.tenantId);
    const invitation = {
      id: randomUUID(),
      tenantId: tx.tenantId,
      email: input.email,
      role: input.role,
      tokenHash: hash,
      invitedByType: who.actor.type,
      invitedById: who.actor.id,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + deps.config.invitationTtlSeconds * 1000),
    };
    await tx.manager.insert(InvitationEntity, invitation);
    await recordAudit(tx, {
      action: 'invitation.created',
      targetType: 'invitation',
      targetId: invitation.id,
      details: { email: input.email, role: input.role },
    });
    await deps.outbox.publish(tx, InvitationCreatedEvent, {
      subject: invitation.id,
      data: {
        invitationId: invitation.id,
        tenantId: tx.tenantId,
        email: input.email,
        role: input.role,
        expiresAt: invitation.expiresAt.toISOString(),
      },
    });
    return {
      invitationId: invitation.id,
      email: input.email,
      role: input.role,
      createdAt: invitation.createdAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
      token,
    };
  });
}
