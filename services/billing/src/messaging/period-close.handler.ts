import type { PeriodCloseRequested } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { closePeriod } from '../application/close-period/close-period';

export function periodCloseHandler(deps: BillingDeps): EventHandler<PeriodCloseRequested> {
  return async (event, tx) => {
    if (event.data.tenantId !== event.tenantid) {
      throw new Error(`job for ${event.data.tenantId} in an envelope of ${event.tenantid}`);
    }
    await closePeriod(tx, deps, event.data);
  };
}
