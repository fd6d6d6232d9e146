import type { ApiCallCompleted } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import { TenantDeletedRefusal } from '@tenantry/events';
import { periodFinder } from '../../domain/billing-period';
import { API_CALLS_METER } from '../../persistence/usage-repository';
import type { BillingDeps } from '../billing-deps';

/** A usage event billing refuses for good: it goes to the DLQ with this message as reason. */
export class UsageRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageRefusedError';
  }
}

/** Server errors are the platform's fault, not the tenant's: they are not metered. */
export function isBillableCall(status: number): boolean {
  return status < 500;
}

/**
 * API calls into the usage ledger, once per (tenant, event id), each in the period it happened in
 * (the subscription's zone). A tenant that billing does not know, or a payload naming another
 * tenant than the envelope, is refused.
 *
 * Consecutive API calls of one tenant (the inbox's batch), recorded together. One refused event
 * fails the batch; the inbox then replays it event by event, so only that one is dead-lettered.
 * `shard`: the period aggregate row this batch adds to (the Kafka partition; see recordMany).
 */
export async function recordUsageBatch(
  tx: TenantTransaction,
  deps: BillingDeps,
  events: readonly EventEnvelope<ApiCallCompleted>[],
  shard: number,
): Promise<number> {
  for (const event of events) {
    if (event.data.tenantId !== event.tenantid) {
      throw new UsageRefusedError(
        `tenant mismatch: payload names ${event.data.tenantId}, envelope ${event.tenantid}`,
      );
    }
  }
  const subscription = await deps.subscriptions.find(tx);
  if (!subscription) {
    // Usage of a deleted tenant is refused whenever it happened: it was billed (or not) by the
    // final invoice already.
    if (await deps.subscriptions.isTombstoned(tx)) {
      throw new TenantDeletedRefusal(tx.tenantId, events[0]?.type ?? 'usage');
    }
    throw new UsageRefusedError(`unknown tenant ${tx.tenantId}`);
  }
  const periodOf = periodFinder(subscription.timeZone);
  const records = events
    .filter((event) => isBillableCall(event.data.status))
    .map((event) => {
      const completed = new Date(event.data.completedAt);
      const occurredAt = Number.isNaN(completed.getTime()) ? new Date(event.time) : completed;
      return {
        eventId: event.id,
        meter: API_CALLS_METER,
        quantity: 1n,
        occurredAt,
        periodStart: periodOf(occurredAt).start,
      };
    });
  return deps.usage.recordMany(tx, records, shard);
}
