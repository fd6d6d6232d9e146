import type { TenantTransaction } from '@tenantry/db';
import { formatMoney, money, toSafeNumber } from '../domain/money';
import type { PlanVersion } from '../domain/plan';
import type { Invoice, InvoiceRepository } from '../persistence/invoice-repository';
import type { Subscription } from '../persistence/subscription-repository';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function planView(plan: PlanVersion) {
  return {
    code: plan.code,
    version: plan.version,
    name: plan.name,
    currency: plan.currency,
    seatPriceMinor: toSafeNumber(plan.seatPriceMinor),
    includedApiCalls: toSafeNumber(plan.includedApiCalls),
    overagePer1000Minor: toSafeNumber(plan.overagePer1000Minor),
    trialDays: plan.trialDays,
  };
}

export function subscriptionView(s: Subscription, plan: PlanVersion) {
  return {
    id: s.id,
    status: s.status,
    plan: planView(plan),
    pendingPlanCode: s.pendingPlanCode,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    timeZone: s.timeZone ?? 'UTC',
    trialEndsAt: iso(s.trialEndsAt),
    currentPeriodStart: s.currentPeriodStart.toISOString(),
    currentPeriodEnd: s.currentPeriodEnd.toISOString(),
  };
}

export type InvoiceView = Awaited<ReturnType<typeof invoiceView>>;

/** An invoice as the API shows it: integer minor units plus a formatted total. */
export async function invoiceView(
  tx: TenantTransaction,
  invoices: InvoiceRepository,
  invoice: Invoice,
) {
  const [lines, notes] = await Promise.all([
    invoices.lines(tx, invoice.id),
    invoices.creditNotes(tx, invoice.id),
  ]);
  return {
    id: invoice.id,
    number: invoice.number ?? '',
    status: invoice.status,
    currency: invoice.currency,
    periodStart: invoice.periodStart.toISOString(),
    periodEnd: invoice.periodEnd.toISOString(),
    final: invoice.isFinal,
    lines: lines.map((l) => ({
      kind: l.kind,
      description: l.description,
      quantity: toSafeNumber(l.quantity),
      unitAmountMinor: toSafeNumber(l.unitAmountMinor),
      amountMinor: toSafeNumber(l.amountMinor),
    })),
    subtotalMinor: toSafeNumber(invoice.subtotalMinor),
    totalMinor: toSafeNumber(invoice.totalMinor),
    total: formatMoney(money(invoice.totalMinor, invoice.currency)),
    issuedAt: iso(invoice.issuedAt),
    dueAt: iso(invoice.dueAt),
    overdue: invoice.overdueAt !== null && invoice.status === 'issued',
    paidAt: iso(invoice.paidAt),
    paymentReference: invoice.paymentReference,
    voidedAt: iso(invoice.voidedAt),
    voidReason: invoice.voidReason,
    creditNotes: notes.map((n) => ({
      id: n.id,
      number: n.number,
      amountMinor: toSafeNumber(n.amountMinor),
      currency: n.currency,
      reason: n.reason,
      issuedAt: n.issuedAt.toISOString(),
    })),
  };
}
