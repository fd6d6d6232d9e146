import type { MembershipAdded } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import { eventTime } from './event-time';

export function membershipAddedHandler(sync: IdentityPolicySync): EventHandler<MembershipAdded> {
  return (event, tx) =>
    sync.subjectAdded(
      tx,
      'user',
      event.data.userId,
      event.data.role,
      eventTime(event.data.addedAt, event.time),
    );
}
