import { randomUUID } from 'node:crypto';
import { InvoiceIssuedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { BillingPeriod } from '../../domain/billing-period';
import { periodContaining, periodLabel } from '../../domain/billing-period';
import type { LateUsage } from '../../domain/invoice-builder';
import { buildInvoice } from '../../domain/invoice-builder';
import { documentNumber } from '../../domain/invoice-status';
import { toSafeNumber } from '../../domain/money';
import { peakSeatsInWindow } from '../../domain/seat-count';
import type { Invoice } from '../../persistence/invoice-repository';
import type { Subscription } from '../../persistence/subscription-repository';
import type { BillingDeps } from '../billing-deps';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface IssueInvoiceInput {
  readonly subscription: Subscription;
  readonly period: BillingPeriod;
  /** Seats are charged until here (the period end, or the deletion of a tenant). */
  readonly chargeUntil: Date;
  readonly idempotencyKey: string;
  readonly isFinal: boolean;
}

/**
 * Builds, numbers and issues one invoice, in the caller's transaction: a draft claims the
 * idempotency key (a second run finds it taken and does nothing), the unbilled usage and waiting
 * charges are claimed onto it, lines are written, and the next gapless number is taken last.
 */
export async function issueInvoice(
  tx: TenantTransaction,
  deps: BillingDeps,
  input: IssueInvoiceInput,
): Promise<Invoice | undefined> {
  const { subscription, period } = input;
  const now = deps.clock.now();
  const plan = await deps.plans.version(
    subscription.planCode,
    subscription.planVersion,
    tx.manager,
  );
  if (!plan)
    throw new Error(`plan ${subscription.planCode} v${subscription.planVersion} is missing`);
  const id = randomUUID();
  const claimed = await deps.invoices.insertDraft(tx, {
    id,
    idempotencyKey: input.idempotencyKey,
    currency: plan.currency,
    planCode: plan.code,
    planVersion: plan.version,
    periodStart: period.start,
    periodEnd: input.isFinal ? input.chargeUntil : period.end,
    isFinal: input.isFinal,
    createdAt: now,
  });
  if (!claimed) return undefined;

  const zone = subscription.timeZone;
  // The final invoice takes every unbilled call, even ones stamped after the deletion.
  const usage = await deps.usage.claimUnbilled(tx, id, input.isFinal ? null : period.end);
  let apiCalls = 0n;
  const lateUsage: LateUsage[] = [];
  for (const bucket of usage) {
    if (bucket.periodStart.getTime() >= period.start.getTime()) {
      apiCalls += bucket.quantity;
      continue;
    }
    const earlier = await deps.invoices.covering(tx, bucket.periodStart);
    const earlierPlan = earlier
      ? await deps.plans.version(earlier.planCode, earlier.planVersion, tx.manager)
      : plan;
    lateUsage.push({
      periodLabel: periodLabel(periodContaining(bucket.periodStart, zone), zone),
      invoiceNumber: earlier?.number ?? null,
      alreadyBilledCalls: await deps.usage.billedBefore(tx, bucket.periodStart, id),
      lateCalls: bucket.quantity,
      includedApiCalls: (earlierPlan ?? plan).includedApiCalls,
      overagePer1000Minor: (earlierPlan ?? plan).overagePer1000Minor,
    });
  }
  const pending = await deps.invoices.claimPending(tx, id);
  const seatWindow = await deps.seats.window(tx, period.start, input.chargeUntil);
  const starts = [period.start, subscription.startedAt, subscription.trialEndsAt ?? period.start];
  const chargeFrom = new Date(Math.max(...starts.map((d) => d.getTime())));
  const built = buildInvoice({
    plan,
    period,
    periodLabel: periodLabel(period, zone),
    chargeFrom,
    chargeUntil: input.chargeUntil,
    seats: peakSeatsInWindow(seatWindow, period.start, input.chargeUntil),
    apiCalls,
    lateUsage,
    pending,
  });
  await deps.invoices.insertLines(tx, id, built.lines);
  const sequence = await deps.invoices.nextSequence(tx, 'invoice');
  const number = documentNumber('invoice', sequence);
  const dueAt = new Date(now.getTime() + deps.paymentTermsDays * DAY_MS);
  await deps.invoices.issue(tx, id, {
    sequence,
    number,
    subtotalMinor: built.subtotalMinor,
    totalMinor: built.totalMinor,
    issuedAt: now,
    dueAt,
  });
  await deps.outbox.publish(tx, InvoiceIssuedEvent, {
    subject: id,
    key: `${tx.tenantId}:invoices`,
    data: {
      tenantId: tx.tenantId,
      invoiceId: id,
      number,
      currency: built.currency,
      periodStart: period.start.toISOString(),
      periodEnd: (input.isFinal ? input.chargeUntil : period.end).toISOString(),
      lines: built.lines.map((line) => ({
        kind: line.kind,
        description: line.description,
        quantity: toSafeNumber(line.quantity),
        unitAmountMinor: toSafeNumber(line.unitAmountMinor),
        amountMinor: toSafeNumber(line.amountMinor),
      })),
      subtotalMinor: toSafeNumber(built.subtotalMinor),
      totalMinor: toSafeNumber(built.totalMinor),
      issuedAt: now.toISOString(),
      dueAt: dueAt.toISOString(),
      final: input.isFinal,
    },
  });
  if (built.totalMinor > 0n) {
    await deps.schedule.setOverdueCheck(tx, await deps.invoices.nextDueAt(tx));
  }
  return deps.invoices.find(tx, id);
}
