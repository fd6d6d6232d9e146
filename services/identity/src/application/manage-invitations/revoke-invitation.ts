import { InvitationRevokedEvent } from '@tenantry/contracts';
import { withCurrentTenant } from '@tenantry/db';
import { conflict, forbidden, notFound } from '@tenantry/http';
import { accessPolicy } from '../../domain/access-policy';
import { recordAudit } from '../../persistence/audit-trail';
import { InvitationEntity } from '../../persistence/entities/invitation.entity';
import type { IdentityDeps } from '../identity-deps';
import { authorizeTenantActor } from '../tenant-access';

/** Withdraws an open invitation of the current tenant; revoking twice is a no-op. */
export async function revokeInvitation(deps: IdentityDeps, invitationId: string): Promise<void> {
  await withCurrentTenant(deps.dataSource, async (tx) => {
    const who = await authorizeTenantActor(tx, 'invitations:revoke');
    const invitation = await tx.manager.findOne(InvitationEntity, {
      where: { id: invitationId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!invitation) throw notFound('No such invitation.');
    if (!accessPolicy.canManageRole(who.role, invitation.role)) {
      throw forbidden(`A ${who.role} cannot revoke an invitation as ${invitation.role}.`);
    }
    if (invitation.revokedAt) return;
    if (invitation.acceptedAt) throw conflict('This invitation was already accepted.');
    const revokedAt = new Date();
    await tx.manager.update(InvitationEntity, { id: invitationId }, { revokedAt });
    await recordAudit(tx, {
      action: 'invitation.revoked',
      targetType: 'invitation',
      targetId: invitationId,
    });
    await deps.outbox.publish(tx, InvitationRevokedEvent, {
      subject: invitationId,
      data: { invitationId, tenantId: tx.tenantId, revokedAt: revokedAt.toISOString() },
    });
  });
}
