import type { TenantTransaction } from '@tenantry/db';
import { refuseEventAfterDeletion } from '@tenantry/events';
import type { SeatEvent } from '../../domain/seat-count';
import type { BillingDeps } from '../billing-deps';

/**
 * One membership change into the seat history. It does not need the subscription: membership
 * events may arrive before the tenant's creation (other keys, other partitions). Nothing of a
 * deleted tenant comes back: a change after its purge is refused (the DLQ, "tenant deleted"), an
 * earlier one delivered late is dropped.
 */
export async function recordSeatChange(
  tx: TenantTransaction,
  deps: BillingDeps,
  eventId: string,
  change: SeatEvent,
): Promise<void> {
  const deletedAt = await deps.subscriptions.tombstonedAt(tx);
  if (deletedAt) {
    const type = change.kind === 'added' ? 'seat.added' : 'seat.removed';
    refuseEventAfterDeletion({ type, tenantId: tx.tenantId, at: change.at }, deletedAt);
    return;
  }
  await deps.seats.record(tx, eventId, change);
}
