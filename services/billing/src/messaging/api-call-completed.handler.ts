import type { ApiCallCompleted } from '@tenantry/contracts';
import type { EventBatchHandler } from '@tenantry/events';
import type { BillingDeps } from '../application/billing-deps';
import { recordUsageBatch } from '../application/record-usage/record-usage';

/**
 * A tenant's run of API calls in one transaction: one ledger insert, one aggregate update, on the
 * aggregate shard of the events' partition, so the tenant's other partitions, handled at the
 * same time, update other rows and do not wait for this transaction (ADR 0017).
 */
export function apiCallCompletedHandler(deps: BillingDeps): EventBatchHandler<ApiCallCompleted> {
  return async (events, tx, source) => {
    await recordUsageBatch(tx, deps, events, source.partition);
  };
}
