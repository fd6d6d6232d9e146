import { TenantDeletionCanceledEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { conflict, notFound } from '@tenantry/http';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';
import type { OffboardingState } from './offboarding-state';
import { offboardingStateOf } from './offboarding-state';

/**
 * An operator takes a deletion back during its grace period: the tenant returns to the status it
 * had (active or suspended), nothing was erased. Once the purge started it is too late (409).
 * The purge scheduler locks the tenant row too, so a cancel and a purge start never both win.
 */
export async function cancelTenantDeletion(
  deps: IdentityDeps,
  tenantId: string,
): Promise<OffboardingState> {
  await authorizeOperator(deps, 'platform.tenants:delete');
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, async (tx) => {
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound('No such tenant.');
      if (tenant.status === 'purging' || tenant.status === 'deleted') {
        throw conflict('The purge of this tenant has started; its deletion cannot be canceled.');
      }
      if (tenant.status !== 'deleting') throw conflict('This tenant is not being deleted.');
      const restored = tenant.statusBeforeDeletion ?? 'active';
      const at = deps.clock.now();
      await tx.manager.update(
        TenantEntity,
        { id: tenantId },
        {
          status: restored,
          statusChangedAt: at,
          statusBeforeDeletion: null,
          deletionRequestedAt: null,
          purgeAfter: null,
        },
      );
      await recordAudit(tx, {
        action: 'tenant.deletion-canceled',
        targetType: 'tenant',
        targetId: tenantId,
        details: {
          restoredStatus: restored,
          requestedAt: tenant.deletionRequestedAt?.toISOString() ?? null,
        },
      });
      await deps.outbox.publish(tx, TenantDeletionCanceledEvent, {
        subject: tenantId,
        data: { tenantId, restoredStatus: restored, canceledAt: at.toISOString() },
      });
      const updated = await tx.manager.findOneByOrFail(TenantEntity, { id: tenantId });
      return offboardingStateOf(tx, updated);
    }),
  );
}
