import type { TenantTransaction } from '@tenantry/db';
import { periodContaining, periodLabel } from '../../domain/billing-period';
import { CurrencyMismatchError } from '../../domain/money';
import { classifyPlanChange } from '../../domain/plan';
import { upgradeProrationCredit } from '../../domain/proration';
import { peakSeatsInWindow } from '../../domain/seat-count';
import type { Subscription } from '../../persistence/subscription-repository';
import { BillingRefusedError } from '../billing-refused-error';
import type { BillingDeps } from '../billing-deps';
import { publishSubscriptionChanged } from '../subscription-events';
import type { EventIdFor } from '../event-ids';
import { randomEventIds } from '../event-ids';

export type PlanChangeOutcome =
  'upgraded' | 'downgrade-scheduled' | 'downgrade-withdrawn' | 'unchanged';

/**
 * Upgrade at once, with a proration credit for the part of the period already spent on the
 * cheaper plan; downgrade at the period end. The subscription row is locked first, so concurrent
 * changes of one tenant run one after another, each on the state the previous one left.
 */
export async function changePlan(
  tx: TenantTransaction,
  deps: BillingDeps,
  planCode: string,
  eventIds: EventIdFor = randomEventIds,
): Promise<{ subscription: Subscription; outcome: PlanChangeOutcome }> {
  const current = await deps.subscriptions.findForUpdate(tx);
  if (!current) throw new BillingRefusedError('not-found', 'This tenant has no subscription.');
  if (current.status === 'canceled') {
    throw new BillingRefusedError('conflict', 'The subscription is canceled.');
  }
  const db = tx.manager;
  const target = await deps.plans.current(planCode, db);
  if (!target) throw new BillingRefusedError('not-found', `No plan ${planCode}.`);
  const plan = await deps.plans.version(current.planCode, current.planVersion, db);
  if (!plan) throw new Error(`plan ${current.planCode} v${current.planVersion} is missing`);
  let kind;
  try {
    kind = classifyPlanChange(plan, target);
  } catch (error) {
    if (error instanceof CurrencyMismatchError) {
      throw new BillingRefusedError(
        'unprocessable',
        'A plan in another currency cannot be chosen.',
      );
    }
    throw error;
  }
  if (kind === 'same' || current.planCode === target.code) {
    if (current.pendingPlanCode === null) return { subscription: current, outcome: 'unchanged' };
    const withdrawn = { ...current, pendingPlanCode: null, pendingPlanVersion: null };
    await deps.subscriptions.update(tx, withdrawn);
    await publishSubscriptionChanged(
      tx,
      deps,
      withdrawn,
      'downgrade-scheduled',
      current.planCode,
      eventIds,
    );
    return { subscription: withdrawn, outcome: 'downgrade-withdrawn' };
  }
  if (kind === 'downgrade') {
    const scheduled = {
      ...current,
      pendingPlanCode: target.code,
      pendingPlanVersion: target.version,
    };
    await deps.subscriptions.update(tx, scheduled);
    await publishSubscriptionChanged(
      tx,
      deps,
      scheduled,
      'downgrade-scheduled',
      current.planCode,
      eventIds,
    );
    return { subscription: scheduled, outcome: 'downgrade-scheduled' };
  }
  const now = deps.clock.now();
  const period = { start: current.currentPeriodStart, end: current.currentPeriodEnd };
  // The members at `now`: an empty window there.
  const seats = BigInt(peakSeatsInWindow(await deps.seats.window(tx, now, now), now, now));
  const credit = upgradeProrationCredit({
    oldSeatPriceMinor: plan.seatPriceMinor,
    newSeatPriceMinor: target.seatPriceMinor,
    seats,
    period,
    changedAt: now,
    chargedFrom: new Date(
      Math.max(current.startedAt.getTime(), current.trialEndsAt?.getTime() ?? 0),
    ),
  });
  if (credit !== 0n) {
    await deps.invoices.addPending(
      tx,
      {
        kind: 'proration-credit',
        description:
          `Proration, ${periodLabel(periodContaining(period.start, current.timeZone), current.timeZone)}: ` +
          `${plan.name} -> ${target.name} on ${now.toISOString()}, ${seats} seat(s), ` +
          `time before the upgrade at the ${plan.name} price`,
        quantity: seats,
        unitAmountMinor: plan.seatPriceMinor - target.seatPriceMinor,
        amountMinor: credit,
        currency: target.currency,
      },
      now,
    );
  }
  const upgraded: Subscription = {
    ...current,
    planCode: target.code,
    planVersion: target.version,
    pendingPlanCode: null,
    pendingPlanVersion: null,
  };
  await deps.subscriptions.update(tx, upgraded);
  await publishSubscriptionChanged(tx, deps, upgraded, 'upgraded', current.planCode, eventIds);
  return { subscription: upgraded, outcome: 'upgraded' };
}

/** Cancel at the period end (`cancel: true`), or take a scheduled cancellation back. */
export async function setCancelAtPeriodEnd(
  tx: TenantTransaction,
  deps: BillingDeps,
  cancel: boolean,
  eventIds: EventIdFor = randomEventIds,
): Promise<Subscription> {
  const current = await deps.subscriptions.findForUpdate(tx);
  if (!current) throw new BillingRefusedError('not-found', 'This tenant has no subscription.');
  if (current.status === 'canceled') {
    throw new BillingRefusedError('conflict', 'The subscription is canceled.');
  }
  if (current.cancelAtPeriodEnd === cancel) return current;
  const next = { ...current, cancelAtPeriodEnd: cancel };
  await deps.subscriptions.update(tx, next);
  await publishSubscriptionChanged(
    tx,
    deps,
    next,
    cancel ? 'cancel-scheduled' : 'cancel-withdrawn',
    null,
    eventIds,
  );
  return next;
}
