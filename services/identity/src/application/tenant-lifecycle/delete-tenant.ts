import { TenantDeletedEvent, UserDeletedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { notFound } from '@tenantry/http';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';
import { eraseTenantPersonalData } from './erase-tenant-personal-data';

/**
 * Offboarding, as a platform operator: marks the tenant deleted, erases identity's personal data
 * of it in the same transaction (tables purged, audit rows redacted, a tombstone left in the
 * registry) and publishes the event that tells every other service to erase theirs. Users who
 * belonged to no other tenant are deleted too. Deleting a deleted tenant changes nothing.
 */
export async function deleteTenant(
  deps: IdentityDeps,
  tenantId: string,
): Promise<{ tenantId: string; status: 'deleted' }> {
  await authorizeOperator(deps, 'tenant:delete');
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, async (tx) => {
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound('No such tenant.');
      if (tenant.status === 'deleted') return { tenantId, status: 'deleted' as const };
      const deletedAt = new Date();
      // Marked first: the audit log's eraser refuses a tenant that is not deleted.
      await tx.manager.update(
        TenantEntity,
        { id: tenantId },
        { status: 'deleted', statusReason: null, statusChangedAt: deletedAt },
      );
      // Immediate for now; the offboarding saga will call this after its grace period instead.
      const { erasedUserIds } = await eraseTenantPersonalData(tx);
      await deps.outbox.publishMany(
        tx,
        UserDeletedEvent,
        erasedUserIds.map((userId) => ({
          subject: userId,
          data: { userId, tenantId, deletedAt: deletedAt.toISOString() },
        })),
      );
      // Same transaction as the erasure, so it cannot happen unrecorded: who deleted it, when.
      await recordAudit(tx, { action: 'tenant.deleted', targetType: 'tenant', targetId: tenantId });
      await deps.outbox.publish(tx, TenantDeletedEvent, {
        subject: tenantId,
        data: { tenantId, deletedAt: deletedAt.toISOString() },
      });
      return { tenantId, status: 'deleted' as const };
    }),
  );
}
