import { MembershipRemovedEvent } from '@tenantry/contracts';
import { withCurrentTenant } from '@tenantry/db';
import { conflict, forbidden, notFound } from '@tenantry/http';
import { accessPolicy } from '../../domain/access-policy';
import { recordAudit } from '../../persistence/audit-trail';
import { changedRows } from '../../persistence/changed-rows';
import { MembershipEntity } from '../../persistence/entities/membership.entity';
import { UserTenantEntity } from '../../persistence/entities/user-tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { publishSessionsRevoked } from '../issue-tokens/session-revocation-publisher';
import { authorizeTenantActor } from '../tenant-access';

/**
 * Removes a member from the current tenant and ends their sessions there. An admin cannot remove
 * an owner, and the last owner cannot be removed at all.
 */
export async function removeMember(deps: IdentityDeps, userId: string): Promise<void> {
  await withCurrentTenant(deps.dataSource, async (tx) => {
    const who = await authorizeTenantActor(tx, 'members:remove');
    const member = await tx.manager.findOne(MembershipEntity, {
      where: { userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!member) throw notFound('No such member.');
    if (!accessPolicy.canManageRole(who.role, member.role)) {
      throw forbidden(`A ${who.role} cannot remove a ${member.role}.`);
    }
    if (member.role === 'owner') {
      // Lock every owner row so two concurrent removals cannot leave the tenant ownerless.
      const owners = await tx.manager.find(MembershipEntity, {
        where: { role: 'owner' },
        lock: { mode: 'pessimistic_write' },
      });
      if (owners.length <= 1) throw conflict('The last owner of a tenant cannot be removed.');
    }
    await tx.manager.delete(MembershipEntity, { tenantId: tx.tenantId, userId });
    await tx.manager.delete(UserTenantEntity, { tenantId: tx.tenantId, userId });
    const ended = changedRows<{ family_id: string }>(
      await tx.manager.query(
        `UPDATE refresh_tokens SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id`,
        [userId],
      ),
    );
    // Their live sessions' access tokens are refused at the gateway too, not only refreshes.
    const sessionIds = [...new Set(ended.map((row) => row.family_id))];
    await publishSessionsRevoked(
      deps,
      tx,
      sessionIds.map((sessionId) => ({ userId, sessionId })),
      'membership-removed',
    );
    await recordAudit(tx, {
      action: 'membership.removed',
      targetType: 'user',
      targetId: userId,
      details: { role: member.role },
    });
    await deps.outbox.publish(tx, MembershipRemovedEvent, {
      subject: userId,
      data: { tenantId: tx.tenantId, userId, removedAt: new Date().toISOString() },
    });
  });
}
