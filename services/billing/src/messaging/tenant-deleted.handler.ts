import type { TenantDeleted } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { purgeTenant } from '../application/purge-tenant/purge-tenant';
import { eventTime } from './event-time';

export function tenantDeletedHandler(deps: BillingDeps): EventHandler<TenantDeleted> {
  return async (event, tx) => {
    await purgeTenant(tx, deps, eventTime(event.data.deletedAt, event.time));
  };
}
