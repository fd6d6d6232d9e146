import type { SubscriptionChange } from '@tenantry/contracts';
import { SubscriptionChangedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { Subscription } from '../persistence/subscription-repository';
import type { BillingDeps } from './billing-deps';

/** Writes `billing.subscription.changed` in the transaction that made the change. */
export async function publishSubscriptionChanged(
  tx: TenantTransaction,
  deps: BillingDeps,
  subscription: Subscription,
  change: SubscriptionChange,
  previousPlanCode: string | null = null,
): Promise<void> {
  await deps.outbox.publish(tx, SubscriptionChangedEvent, {
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
