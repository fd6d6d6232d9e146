import type { TenantCreated } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import { eventTime } from './event-time';

export function tenantCreatedHandler(sync: IdentityPolicySync): EventHandler<TenantCreated> {
  return (event, tx) =>
    sync.tenantCreated(tx, event.data.ownerUserId, eventTime(event.data.createdAt, event.time));
}
