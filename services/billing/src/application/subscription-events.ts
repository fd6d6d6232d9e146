import type { SubscriptionChange } from '@tenantry/contracts';
import { SubscriptionChangedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { Subscription } from '../persistence/subscription-repository';
import type { BillingDeps } from './billing-deps';
import type { EventIdFor } from './event-ids';
import { randomEventIds } from './event-ids';

/** Writes `billing.subscription.changed` in the transaction that made the change. */
export async function publishSubscriptionChanged(
  tx: TenantTransaction,
  deps: BillingDeps,
  subscription: Subscription,
  change: SubscriptionChange,
  previousPlanCode: string | null = null,
  eventIds: EventIdFor = randomEventIds,
): Promise<void> {
  await deps.outbox.publish(tx, SubscriptionChangedEvent, {
    id: eventIds(SubscriptionChangedEvent.type),
    subject: subscription.id,
    key: `${tx.tenantId}:subscription`,
    data: {
      tenantId: tx.tenantId,
      subscriptionId: subscription.id,
      change,
      status: subscription.status,
      planCode: subscription.planCode,
      planVersion: subscription.planVersion,
      previousPlanCode,
      pendingPlanCode: subscription.pendingPlanCode,
      cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
      currentPeriodStart: subscription.currentPeriodStart.toISOString(),
      currentPeriodEnd: subscription.currentPeriodEnd.toISOString(),
      changedAt: deps.clock.now().toISOString(),
    },
  });
}
