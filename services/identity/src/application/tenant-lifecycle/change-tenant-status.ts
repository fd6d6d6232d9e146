import { TenantResumedEvent, TenantSuspendedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { conflict, notFound } from '@tenantry/http';
import { isOffboarding } from '../../domain/tenant-lifecycle';
import { recordAudit } from '../../persistence/audit-trail';
import type { TenantStatus } from '../../persistence/entities/tenant.entity';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';

/**
 * Suspends (every token and key of the tenant refused with 403) or resumes a tenant, as a
 * platform operator. Asking for the status the tenant already has changes nothing.
 */
export async function changeTenantStatus(
  deps: IdentityDeps,
  tenantId: string,
  target: 'suspended' | 'active',
  reason: string | null,
): Promise<{ tenantId: string; status: TenantStatus }> {
  await authorizeOperator(
    deps,
    target === 'suspended' ? 'platform.tenants:suspend' : 'platform.tenants:resume',
  );
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, async (tx) => {
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound('No such tenant.');
      // Offboarding has its own way back (canceling the deletion), and no way back once purging.
      if (isOffboarding(tenant.status)) throw conflict(`This tenant is ${tenant.status}.`);
      if (tenant.status === target) return { tenantId, status: tenant.status };
      const at = new Date();
      await tx.manager.update(
        TenantEntity,
        { id: tenantId },
        { status: target, statusReason: reason, statusChangedAt: at },
      );
      await recordAudit(tx, {
        action: target === 'suspended' ? 'tenant.suspended' : 'tenant.resumed',
        targetType: 'tenant',
        targetId: tenantId,
        details: reason ? { reason } : {},
      });
      if (target === 'suspended') {
        await deps.outbox.publish(tx, TenantSuspendedEvent, {
          subject: tenantId,
          data: { tenantId, reason, suspendedAt: at.toISOString() },
        });
      } else {
        await deps.outbox.publish(tx, TenantResumedEvent, {
          subject: tenantId,
          data: { tenantId, resumedAt: at.toISOString() },
        });
      }
      return { tenantId, status: target };
    }),
  );
}
