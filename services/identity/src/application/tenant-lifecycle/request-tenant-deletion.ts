import { TenantDeletionRequestedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { withCurrentTenant, withTenant } from '@tenantry/db';
import { conflict, notFound } from '@tenantry/http';
import { isOffboarding } from '../../domain/tenant-lifecycle';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';
import { authorizeTenantActor } from '../tenant-access';
import type { OffboardingState } from './offboarding-state';
import { offboardingStateOf } from './offboarding-state';

/**
 * Offboarding, step one, as a platform operator: the tenant becomes `deleting` (refused like a
 * suspended tenant) until its grace period ends; then the purge scheduler starts the purge
 * (`startTenantPurge`). Asking again while offboarding changes nothing and says where it is.
 */
export async function requestTenantDeletion(
  deps: IdentityDeps,
  tenantId: string,
): Promise<OffboardingState> {
  await authorizeOperator(deps, 'platform.tenants:delete');
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, (tx) => beginDeletion(tx, deps)),
  );
}

/**
 * The same, asked by an owner of the current tenant, who names its slug to confirm. From then on
 * the tenant's own credentials are refused: only an operator can cancel.
 */
export async function requestOwnTenantDeletion(
  deps: IdentityDeps,
  confirmSlug: string,
): Promise<OffboardingState> {
  return withCurrentTenant(deps.dataSource, async (tx) => {
    await authorizeTenantActor(tx, 'tenant:delete');
    const tenant = await tx.manager.findOneByOrFail(TenantEntity, { id: tx.tenantId });
    if (tenant.slug !== confirmSlug) {
      throw conflict('Name the tenant’s slug in confirmSlug to delete it.');
    }
    return beginDeletion(tx, deps);
  });
}

async function beginDeletion(tx: TenantTransaction, deps: IdentityDeps): Promise<OffboardingState> {
  const tenantId = tx.tenantId;
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
}
