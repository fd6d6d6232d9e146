import type { TenantDeleted } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';

export function tenantDeletedHandler(sync: IdentityPolicySync): EventHandler<TenantDeleted> {
  return (_event, tx) => sync.tenantDeleted(tx);
}
