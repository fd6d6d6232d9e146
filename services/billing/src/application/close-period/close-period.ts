import type { PeriodCloseRequested } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { periodAfter } from '../../domain/billing-period';
import type { Subscription } from '../../persistence/subscription-repository';
import type { BillingDeps } from '../billing-deps';
import { publishSubscriptionChanged } from '../subscription-events';
import { issueInvoice } from './issue-invoice';

export class PeriodNotClosableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeriodNotClosableError';
  }
}

export type CloseOutcome = 'closed' | 'already-closed' | 'no-subscription';

/**
 * The period-close job: invoices the ended period and moves the subscription on (a scheduled
 * downgrade or cancellation takes effect, a trial ends). The subscription row lock and the
 * invoice's idempotency key make a second run, or a second replica, a no-op.
 */
export async function closePeriod(
  tx: TenantTransaction,
  deps: BillingDeps,
  job: PeriodCloseRequested,
): Promise<CloseOutcome> {
  const subscription = await deps.subscriptions.findForUpdate(tx);
  if (!subscription) {
    if (await deps.subscriptions.isTombstoned(tx)) return 'no-subscription';
    throw new PeriodNotClosableError(`tenant ${tx.tenantId} has no subscription`);
  }
  if (await deps.invoices.findByKey(tx, job.idempotencyKey)) return 'already-closed';
  const end = new Date(job.periodEnd);
  if (end.getTime() < subscription.currentPeriodEnd.getTime()) return 'already-closed';
  if (end.getTime() > subscription.currentPeriodEnd.getTime()) {
    throw new PeriodNotClosableError(`period ending ${job.periodEnd} is not the current one`);
  }
  if (deps.clock.now() < end) {
    throw new PeriodNotClosableError(`period ending ${job.periodEnd} has not ended`);
  }
  const period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  if (subscription.status !== 'canceled') {
    await issueInvoice(tx, deps, {
      subscription,
      period,
      chargeUntil: period.end,
      idempotencyKey: job.idempotencyKey,
      isFinal: false,
    });
  }
  await advance(tx, deps, subscription);
  return 'closed';
}

async function advance(tx: TenantTransaction, deps: BillingDeps, s: Subscription): Promise<void> {
  const next = periodAfter({ start: s.currentPeriodStart, end: s.currentPeriodEnd }, s.timeZone);
  if (s.cancelAtPeriodEnd || s.status === 'canceled') {
    const canceled: Subscription = {
      ...s,
      status: 'canceled',
      canceledAt: s.canceledAt ?? s.currentPeriodEnd,
      pendingPlanCode: null,
      pendingPlanVersion: null,
    };
    await deps.subscriptions.update(tx, canceled);
    await deps.schedule.setPeriodEnd(tx, null);
    if (s.status !== 'canceled') await publishSubscriptionChanged(tx, deps, canceled, 'canceled');
    return;
  }
  const downgrading = s.pendingPlanCode !== null && s.pendingPlanVersion !== null;
  const trialOver = s.status === 'trialing' && (s.trialEndsAt ?? next.start) <= next.start;
  const moved: Subscription = {
    ...s,
    planCode: downgrading ? (s.pendingPlanCode as string) : s.planCode,
    planVersion: downgrading ? (s.pendingPlanVersion as number) : s.planVersion,
    pendingPlanCode: null,
    pendingPlanVersion: null,
    status: trialOver ? 'active' : s.status,
    currentPeriodStart: next.start,
    currentPeriodEnd: next.end,
  };
  await deps.subscriptions.update(tx, moved);
  await deps.schedule.setPeriodEnd(tx, next.end);
  await publishSubscriptionChanged(
    tx,
    deps,
    moved,
    downgrading ? 'downgraded' : 'renewed',
    downgrading ? s.planCode : null,
  );
}
