import type { ApiCallCompleted } from '@tenantry/contracts';
import type { EventBatchHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { recordUsageBatch } from '../application/record-usage/record-usage';

/** A tenant's run of API calls in one transaction: one ledger insert, one aggregate update. */
export function apiCallCompletedHandler(deps: BillingDeps): EventBatchHandler<ApiCallCompleted> {
  return async (events, tx) => {
    await recordUsageBatch(tx, deps, events);
  };
}
