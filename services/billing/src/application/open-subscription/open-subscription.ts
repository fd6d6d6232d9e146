import { randomUUID } from 'node:crypto';
import type { TenantTransaction } from '@tenantry/db';
import { periodContaining } from '../../domain/billing-period';
import { isPaidPlan } from '../../domain/plan';
import type { Subscription } from '../../persistence/subscription-repository';
import type { BillingDeps } from '../billing-deps';
import { publishSubscriptionChanged } from '../subscription-events';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface OpenSubscriptionInput {
  /** The plan identity named at sign-up; unknown codes fall back to the free plan. */
  readonly planCode: string;
  readonly ownerUserId: string;
  readonly createdAt: Date;
  /** The event that created the tenant (the owner's seat is recorded under it). */
  readonly eventId: string;
}

/**
 * A new tenant's subscription: a paid plan with a trial starts trialing, anything else active on
 * the free plan. The owner is the first seat. Idempotent: a tenant has at most one.
 */
export async function openSubscription(
  tx: TenantTransaction,
  deps: BillingDeps,
  input: OpenSubscriptionInput,
): Promise<Subscription | undefined> {
  if (await deps.subscriptions.isTombstoned(tx)) return undefined;
  const db = tx.manager;
  const plan =
    (await deps.plans.current(input.planCode, db)) ?? (await deps.plans.current('free', db));
  if (!plan) throw new Error('the plan catalogue has no free plan');
  const trial = isPaidPlan(plan) && plan.trialDays > 0;
  const period = periodContaining(input.createdAt, null);
  const subscription: Subscription = {
    id: randomUUID(),
    tenantId: tx.tenantId,
    planCode: plan.code,
    planVersion: plan.version,
    status: trial ? 'trialing' : 'active',
    timeZone: null,
    startedAt: input.createdAt,
    trialEndsAt: trial ? new Date(input.createdAt.getTime() + plan.trialDays * DAY_MS) : null,
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    pendingPlanCode: null,
    pendingPlanVersion: null,
    cancelAtPeriodEnd: false,
    canceledAt: null,
  };
  await deps.seats.record(tx, `${input.eventId}:owner`, {
    userId: input.ownerUserId,
    kind: 'added',
    at: input.createdAt,
  });
  if (!(await deps.subscriptions.insert(tx, subscription))) return undefined;
  await deps.schedule.setPeriodEnd(tx, period.end);
  await publishSubscriptionChanged(tx, deps, subscription, 'created');
  return subscription;
}
