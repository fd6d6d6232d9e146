import { InvoiceOverdueEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { toSafeNumber } from '../../domain/money';
import type { BillingDeps } from '../billing-deps';
import { publishSubscriptionChanged } from '../subscription-events';

/**
 * Flags the tenant's invoices that are unpaid past their due date (one event each) and moves an
 * active or trialing subscription to past_due. Returns how many it flagged.
 */
export async function markOverdue(tx: TenantTransaction, deps: BillingDeps): Promise<number> {
  // The tenant's billing lock first, as closing a period takes it (see settle-invoice).
  const subscription = await deps.subscriptions.findForUpdate(tx);
  const now = deps.clock.now();
  const overdue = await deps.invoices.newlyOverdue(tx, now);
  for (const invoice of overdue) {
    await deps.invoices.markOverdue(tx, invoice.id, now);
    await deps.outbox.publish(tx, InvoiceOverdueEvent, {
      subject: invoice.id,
      key: `${tx.tenantId}:invoices`,
      data: {
        tenantId: tx.tenantId,
        invoiceId: invoice.id,
        number: invoice.number as string,
        currency: invoice.currency,
        amountDueMinor: toSafeNumber(invoice.totalMinor),
        dueAt: (invoice.dueAt as Date).toISOString(),
        detectedAt: now.toISOString(),
      },
    });
  }
  await deps.schedule.setOverdueCheck(tx, await deps.invoices.nextDueAt(tx));
  if (overdue.length === 0) return 0;
  if (subscription && (subscription.status === 'active' || subscription.status === 'trialing')) {
    const pastDue = { ...subscription, status: 'past_due' as const };
    await deps.subscriptions.update(tx, pastDue);
    await publishSubscriptionChanged(tx, deps, pastDue, 'past-due');
  }
  return overdue.length;
}
