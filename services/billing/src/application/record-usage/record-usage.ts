import type { ApiCallCompleted } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import { periodContaining } from '../../domain/billing-period';
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
 * One API call into the usage ledger, once per (tenant, event id), in the period it happened in
 * (the subscription's zone). A tenant that billing does not know, or a payload naming another
 * tenant than the envelope, is refused.
 */
export async function recordUsage(
  tx: TenantTransaction,
  deps: BillingDeps,
  event: EventEnvelope<ApiCallCompleted>,
): Promise<boolean> {
  if (event.data.tenantId !== event.tenantid) {
    throw new UsageRefusedError(
      `tenant mismatch: payload names ${event.data.tenantId}, envelope ${event.tenantid}`,
    );
  }
  const subscription = await deps.subscriptions.find(tx);
  if (!subscription) {
    const deleted = await deps.subscriptions.isTombstoned(tx);
    throw new UsageRefusedError(
      deleted ? `tenant ${tx.tenantId} was deleted` : `unknown tenant ${tx.tenantId}`,
    );
  }
  if (!isBillableCall(event.data.status)) return false;
  const completed = new Date(event.data.completedAt);
  const occurredAt = Number.isNaN(completed.getTime()) ? new Date(event.time) : completed;
  return deps.usage.record(tx, {
    eventId: event.id,
    meter: API_CALLS_METER,
    quantity: 1n,
    occurredAt,
    periodStart: periodContaining(occurredAt, subscription.timeZone).start,
  });
}
