import type { TenantCreated } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { openSubscription } from '../application/open-subscription/open-subscription';
import { eventTime } from './event-time';

export function tenantCreatedHandler(deps: BillingDeps): EventHandler<TenantCreated> {
  return async (event, tx) => {
    await openSubscription(tx, deps, {
      planCode: event.data.plan,
      ownerUserId: event.data.ownerUserId,
      createdAt: eventTime(event.data.createdAt, event.time),
      eventId: event.id,
    });
  };
}
