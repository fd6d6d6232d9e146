import { PeriodCloseRequestedJob, periodCloseIdempotencyKey } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import type { BillingDeps } from '../billing-deps';

/**
 * Puts one period-close job on `billing.jobs` (through the outbox) for the tenant's current
 * period, if it has ended and is not already enqueued (or its job is overdue: attempt + 1).
 */
export async function enqueuePeriodClose(
  tx: TenantTransaction,
  deps: BillingDeps,
  actor: Actor,
  options: { force?: boolean } = {},
): Promise<{ attempt: number; idempotencyKey: string } | undefined> {
  const subscription = await deps.subscriptions.find(tx);
  if (!subscription || subscription.status === 'canceled') return undefined;
  const now = deps.clock.now();
  const end = subscription.currentPeriodEnd;
  if (end > now) return undefined;
  const attempt = await deps.schedule.claimEnqueue(
    tx,
    end,
    now,
    options.force ? 0 : deps.closeRetryMs,
  );
  if (attempt === undefined) return undefined;
  const idempotencyKey = periodCloseIdempotencyKey(tx.tenantId, end);
  await deps.outbox.publish(tx, PeriodCloseRequestedJob, {
    subject: subscription.id,
    key: `${tx.tenantId}:period-close`,
    data: {
      tenantId: tx.tenantId,
      subscriptionId: subscription.id,
      periodStart: subscription.currentPeriodStart.toISOString(),
      periodEnd: end.toISOString(),
      requestedByType: actor.type,
      requestedById: actor.id,
      attempt,
      idempotencyKey,
      requestedAt: now.toISOString(),
    },
  });
  return { attempt, idempotencyKey };
}
