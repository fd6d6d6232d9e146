import type { TenantTransaction } from '@tenantry/db';

/**
 * Offboarding: deletes the transaction's tenant's outbox rows that were published already (their
 * events are in Kafka, bounded by its retention; docs/adr/0013), so the purge leaves none of them
 * waiting for the relay's pruning. Rows not sent yet (the purge's own events) still go out.
 * Returns how many were deleted.
 */
export async function forgetPublishedEvents(tx: TenantTransaction): Promise<number> {
  const result = (await tx.manager.query(
    `DELETE FROM event_outbox WHERE tenant_id = $1 AND published_at IS NOT NULL`,
    [tx.tenantId],
  )) as [unknown[], number];
  return result[1];
}
