import { TenantDeletionRequestedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { notFound } from '@tenantry/http';
import { isOffboarding } from '../../domain/tenant-lifecycle';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';
import type { OffboardingState } from './offboarding-state';
import { offboardingStateOf } from './offboarding-state';

/**
 * Offboarding, as a platform operator, step one: the tenant becomes `deleting` (refused like a
 * suspended tenant) until its grace period ends; then the purge scheduler starts the purge
 * (`startTenantPurge`). Asking again while offboarding changes nothing and says where it is.
 */
export async function requestTenantDeletion(
  deps: IdentityDeps,
  tenantId: string,
): Promise<OffboardingState> {
  await authorizeOperator(deps, 'tenant:delete');
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, async (tx) => {
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound('No such tenant.');
      if (isOffboarding(tenant.status)) return offboardingStateOf(tx, tenant);
      const requestedAt = deps.clock.now();
      const purgeAfter = new Date(requestedAt.getTime() + deps.config.offboarding.gracePeriodMs);
      const previous = tenant.status === 'suspended' ? 'suspended' : 'active';
      await tx.manager.update(
        TenantEntity,
        { id: tenantId },
        {
          status: 'deleting',
          statusChangedAt: requestedAt,
          statusBeforeDeletion: previous,
          deletionRequestedAt: requestedAt,
          purgeAfter,
        },
      );
      await recordAudit(tx, {
        action: 'tenant.deletion-requested',
        targetType: 'tenant',
        targetId: tenantId,
        details: { purgeAfter: purgeAfter.toISOString(), previousStatus: previous },
      });
      await deps.outbox.publish(tx, TenantDeletionRequestedEvent, {
        subject: tenantId,
        data: {
          tenantId,
          requestedAt: requestedAt.toISOString(),
          purgeAfter: purgeAfter.toISOString(),
        },
      });
      const updated = await tx.manager.findOneByOrFail(TenantEntity, { id: tenantId });
      return offboardingStateOf(tx, updated);
    }),
  );
}
