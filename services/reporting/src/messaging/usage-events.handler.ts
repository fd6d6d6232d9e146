import type { ApiCallCompleted } from '@tenantry/contracts';
import type { EventBatchHandler } from '@tenantry/events';
import { isServerError } from '../domain/usage-dimensions';
import type { ApiCall } from '../persistence/usage-repository';
import type { ReadModelDeps } from './read-model-deps';
import { TenantMismatchError, eventTime, refuseAfterPurge } from './read-model-handler';

/**
 * The gateway's usage events, many per transaction: one upsert per bucket table for the whole
 * batch. The inbox already dropped copies it had seen, so every event here adds once.
 */
export function usageEventsHandler(deps: ReadModelDeps): EventBatchHandler<ApiCallCompleted> {
  return async (events, tx) => {
    for (const event of events) {
      if (event.data.tenantId !== event.tenantid) {
        throw new TenantMismatchError(event.type, event.data.tenantId, event.tenantid);
      }
    }
    const deletedAt = await deps.tenants.deletedAt(tx);
    if (deletedAt) {
      // One refused call fails the batch; the inbox then refuses it alone (the DLQ).
      for (const event of events) refuseAfterPurge(event, deletedAt);
      return;
    }
    const calls: ApiCall[] = events.map((event) => ({
      at: eventTime(event.data.completedAt, event.time),
      route: event.data.route,
      status: event.data.status,
      latencyMs: event.data.latencyMs,
      actorType: event.data.actorType,
      actorId: event.data.actorId,
    }));
    await deps.usage.add(tx, calls);
    await deps.platform.addUsage(
      tx,
      calls.map((c) => ({ at: c.at, serverError: isServerError(c.status) })),
    );
    const newest = new Date(Math.max(...calls.map((c) => c.at.getTime())));
    await deps.freshness.applied(tx, 'usage', newest, calls.length);
  };
}
