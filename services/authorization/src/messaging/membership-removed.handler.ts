import type { MembershipRemoved } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import { eventTime } from './event-time';

export function membershipRemovedHandler(
  sync: IdentityPolicySync,
): EventHandler<MembershipRemoved> {
  return (event, tx) =>
    sync.subjectRemoved(tx, 'user', event.data.userId, eventTime(event.data.removedAt, event.time));
}
