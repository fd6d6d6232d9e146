import { TenantDeletionCompletedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { EventsLogger } from '@tenantry/events';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import { purgeConfirmations } from '../../persistence/purge-confirmations';
import type { IdentityDeps } from '../identity-deps';

export type PurgeConfirmationOutcome = 'recorded' | 'completed' | 'duplicate' | 'ignored';

/** A service's purge confirmation arrived that nothing in identity explains. */
export class UnexpectedPurgeConfirmationError extends Error {
  constructor(service: string, tenantId: string, status: string) {
    super(`${service} confirmed the purge of tenant ${tenantId}, which is ${status}`);
    this.name = 'UnexpectedPurgeConfirmationError';
  }
}

/**
 * One service confirmed it purged the transaction's tenant. The last confirmation marks the
 * tenant `deleted` and publishes TenantDeletionCompleted, in the inbox's transaction. A repeated
 * confirmation (a redelivery, or a service that purged twice) changes nothing.
 */
export async function confirmTenantPurge(
  tx: TenantTransaction,
  deps: IdentityDeps,
  confirmation: { service: string; eventId: string },
  logger: EventsLogger,
): Promise<PurgeConfirmationOutcome> {
  const tenant = await tx.manager.findOne(TenantEntity, {
    where: { id: tx.tenantId },
    lock: { mode: 'pessimistic_write' },
  });
  if (!tenant) {
    // Not a tenant of this identity (another deployment's, on a shared broker): nothing to track.
    logger.warn('purge confirmation of an unknown tenant ignored', {
      tenant_id: tx.tenantId,
      service: confirmation.service,
    });
    return 'ignored';
  }
  if (tenant.status !== 'purging' && tenant.status !== 'deleted') {
    // A purge identity never asked for: the DLQ keeps it for someone to look at.
    throw new UnexpectedPurgeConfirmationError(confirmation.service, tenant.id, tenant.status);
  }
  const now = deps.clock.now();
  const fresh = await purgeConfirmations.confirm(
    tx,
    confirmation.service,
    confirmation.eventId,
    now,
  );
  if (!fresh || tenant.status === 'deleted') return 'duplicate';
  const rows = await purgeConfirmations.list(tx);
  if (rows.some((row) => row.confirmedAt === null)) return 'recorded';
  await tx.manager.update(
    TenantEntity,
    { id: tenant.id },
    { status: 'deleted', statusChangedAt: now, deletedAt: now },
  );
  const confirmedBy = rows.map((row) => row.service);
  await recordAudit(tx, {
    action: 'tenant.deleted',
    targetType: 'tenant',
    targetId: tenant.id,
    details: { confirmedBy },
  });
  await deps.outbox.publish(tx, TenantDeletionCompletedEvent, {
    subject: tenant.id,
    data: {
      tenantId: tenant.id,
      requestedAt: (tenant.deletionRequestedAt ?? tenant.purgeStartedAt ?? now).toISOString(),
      purgeStartedAt: (tenant.purgeStartedAt ?? now).toISOString(),
      completedAt: now.toISOString(),
      confirmedBy,
    },
  });
  return 'completed';
}
