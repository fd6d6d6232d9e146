import { TenantDeletedEvent, UserDeletedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { PURGING_SERVICES } from '../../domain/tenant-lifecycle';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import { purgeConfirmations } from '../../persistence/purge-confirmations';
import type { IdentityDeps } from '../identity-deps';
import { eraseTenantPersonalData } from './erase-tenant-personal-data';

/**
 * The end of a deletion's grace period, in the tenant's transaction (the purge scheduler's): the
 * tenant becomes `purging`, identity erases its own data of it (docs/adr/0013), records which
 * services owe a confirmation and publishes the TenantDeleted that tells them to purge. False
 * when there is nothing to start: canceled meanwhile, not due yet, or started already.
 */
export async function startTenantPurge(
  tx: TenantTransaction,
  deps: IdentityDeps,
): Promise<boolean> {
  const tenantId = tx.tenantId;
  const tenant = await tx.manager.findOne(TenantEntity, {
    where: { id: tenantId },
    lock: { mode: 'pessimistic_write' },
  });
  const now = deps.clock.now();
  if (tenant?.status !== 'deleting' || !tenant.purgeAfter || tenant.purgeAfter > now) return false;
  // Marked first: the audit log's eraser refuses a tenant that is not purging or deleted.
  await tx.manager.update(
    TenantEntity,
    { id: tenantId },
    { status: 'purging', statusReason: null, statusChangedAt: now, purgeStartedAt: now },
  );
  const { erasedUserIds } = await eraseTenantPersonalData(tx);
  await deps.outbox.publishMany(
    tx,
    UserDeletedEvent,
    erasedUserIds.map((userId) => ({
      subject: userId,
      data: { userId, tenantId, deletedAt: now.toISOString() },
    })),
  );
  await purgeConfirmations.request(tx, PURGING_SERVICES, now);
  // Same transaction as the erasure, so it cannot happen unrecorded.
  await recordAudit(tx, {
    action: 'tenant.purge-started',
    targetType: 'tenant',
    targetId: tenantId,
    details: { awaiting: [...PURGING_SERVICES] },
  });
  await deps.outbox.publish(tx, TenantDeletedEvent, {
    subject: tenantId,
    data: { tenantId, deletedAt: now.toISOString() },
  });
  return true;
}
