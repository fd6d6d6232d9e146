import type { MembershipRemoved } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { recordSeatChange } from '../application/record-seat/record-seat-change';
import { eventTime } from './event-time';

export function membershipRemovedHandler(deps: BillingDeps): EventHandler<MembershipRemoved> {
  return (event, tx) =>
    recordSeatChange(tx, deps, event.id, {
      userId: event.data.userId,
      kind: 'removed',
      at: eventTime(event.data.removedAt, event.time),
    });
}
