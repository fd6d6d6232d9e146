import type { TenantTransaction } from '@tenantry/db';
import type { SeatEvent } from '../../domain/seat-count';
import type { BillingDeps } from '../billing-deps';

/**
 * One membership change into the seat history. It does not need the subscription: membership
 * events may arrive before the tenant's creation (other keys, other partitions). A deleted
 * tenant's late events are dropped, so they cannot bring its billing data back.
 */
export async function recordSeatChange(
  tx: TenantTransaction,
  deps: BillingDeps,
  eventId: string,
  change: SeatEvent,
): Promise<void> {
  if (await deps.subscriptions.isTombstoned(tx)) return;
  await deps.seats.record(tx, eventId, change);
}
