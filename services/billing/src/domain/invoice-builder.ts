import type { InvoiceLineKind } from '@tenantry/contracts';
import type { BillingPeriod } from './billing-period';
import { secondsBetween, periodSeconds } from './billing-period';
import { CurrencyMismatchError, formatMoney, money, mulDivRound } from './money';
import type { PlanVersion } from './plan';
import { lateUsageAmount, overageAmount, overageCalls } from './usage-pricing';

export interface InvoiceLine {
  readonly kind: InvoiceLineKind;
  readonly description: string;
  readonly quantity: bigint;
  readonly unitAmountMinor: bigint;
  readonly amountMinor: bigint;
}

/** Usage of an already invoiced period that arrived after its invoice. */
export interface LateUsage {
  readonly periodLabel: string;
  readonly invoiceNumber: string | null;
  readonly alreadyBilledCalls: bigint;
  readonly lateCalls: bigint;
  readonly includedApiCalls: bigint;
  readonly overagePer1000Minor: bigint;
}

export interface PendingCharge {
  readonly kind: InvoiceLineKind;
  readonly description: string;
  readonly quantity: bigint;
  readonly unitAmountMinor: bigint;
  readonly amountMinor: bigint;
  readonly currency: string;
}

export interface InvoiceInput {
  /** The plan in force at the close. */
  readonly plan: PlanVersion;
  readonly period: BillingPeriod;
  readonly periodLabel: string;
  /** Seats are charged for [chargeFrom, chargeUntil): a later start, a trial, a final invoice. */
  readonly chargeFrom: Date;
  readonly chargeUntil: Date;
  /** The most members at one time in the period. */
  readonly seats: number;
  /** API calls of this period not invoiced before. */
  readonly apiCalls: bigint;
  readonly lateUsage: readonly LateUsage[];
  readonly pending: readonly PendingCharge[];
}

export interface BuiltInvoice {
  readonly currency: string;
  readonly lines: readonly InvoiceLine[];
  readonly subtotalMinor: bigint;
  readonly totalMinor: bigint;
}

const count = (n: bigint): string => n.toLocaleString('en-US');

/** The lines and totals of a period's invoice: seats, usage overage, late usage, prorations. */
export function buildInvoice(input: InvoiceInput): BuiltInvoice {
  const { plan, period } = input;
  const currency = plan.currency;
  const lines: InvoiceLine[] = [];
  const seats = BigInt(input.seats);
  const full = seats * plan.seatPriceMinor;
  const charged = mulDivRound(
    full,
    secondsBetween(
      input.chargeFrom < period.start ? period.start : input.chargeFrom,
      input.chargeUntil > period.end ? period.end : input.chargeUntil,
    ),
    periodSeconds(period),
  );
  const partial = charged !== full;
  if (seats > 0n) {
    lines.push({
      kind: 'seats',
      description:
        `${plan.name} seats, ${input.periodLabel}: ${seats} × ` +
        `${formatMoney(money(plan.seatPriceMinor, currency))}` +
        (partial ? ` (prorated from ${input.chargeFrom.toISOString().slice(0, 10)})` : ''),
      quantity: seats,
      unitAmountMinor: plan.seatPriceMinor,
      amountMinor: charged,
    });
  }
  const over = overageCalls(input.apiCalls, plan.includedApiCalls);
  if (over > 0n) {
    lines.push({
      kind: 'usage-overage',
      description:
        `API calls, ${input.periodLabel}: ${count(input.apiCalls)} used, ` +
        `${count(plan.includedApiCalls)} included, ${count(over)} over at ` +
        `${formatMoney(money(plan.overagePer1000Minor, currency))} per 1,000`,
      quantity: over,
      unitAmountMinor: plan.overagePer1000Minor,
      amountMinor: overageAmount(input.apiCalls, plan.includedApiCalls, plan.overagePer1000Minor),
    });
  }
  for (const late of input.lateUsage) {
    const priced = lateUsageAmount(
      late.alreadyBilledCalls,
      late.lateCalls,
      late.includedApiCalls,
      late.overagePer1000Minor,
    );
    // Always a line, even at 0: late usage is shown, never silently dropped.
    lines.push({
      kind: 'late-usage',
      description:
        `Late usage for ${late.periodLabel}` +
        (late.invoiceNumber ? ` (after ${late.invoiceNumber})` : '') +
        `: ${count(late.lateCalls)} API calls, ${count(priced.calls)} over the allowance`,
      quantity: late.lateCalls,
      unitAmountMinor: late.overagePer1000Minor,
      amountMinor: priced.amountMinor,
    });
  }
  for (const item of input.pending) {
    if (item.currency !== currency) throw new CurrencyMismatchError(currency, item.currency);
    lines.push({
      kind: item.kind,
      description: item.description,
      quantity: item.quantity,
      unitAmountMinor: item.unitAmountMinor,
      amountMinor: item.amountMinor,
    });
  }
  const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0n);
  // No tax engine yet: the total is the subtotal.
  return { currency, lines, subtotalMinor, totalMinor: subtotalMinor };
}
