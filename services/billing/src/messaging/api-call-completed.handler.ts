import type { ApiCallCompleted } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { recordUsage } from '../application/record-usage/record-usage';

export function apiCallCompletedHandler(deps: BillingDeps): EventHandler<ApiCallCompleted> {
  return async (event, tx) => {
    await recordUsage(tx, deps, event);
  };
}
