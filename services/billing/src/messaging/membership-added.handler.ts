import type { MembershipAdded } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { recordSeatChange } from '../application/record-seat/record-seat-change';
import { eventTime } from './event-time';

export function membershipAddedHandler(deps: BillingDeps): EventHandler<MembershipAdded> {
  return (event, tx) =>
    recordSeatChange(tx, deps, event.id, {
      userId: event.data.userId,
      kind: 'added',
      at: eventTime(event.data.addedAt, event.time),
    });
}
