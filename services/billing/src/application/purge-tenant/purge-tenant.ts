import { TenantBillingPurgedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { forgetPublishedEvents } from '@tenantry/events';
import { issueInvoice } from '../close-period/issue-invoice';
import type { BillingDeps } from '../billing-deps';

/**
 * Offboarding: issue the final invoice (seats until the deletion, every unbilled call, waiting
 * credits), publish it, then erase the tenant's billing data and leave a tombstone, all in one
 * transaction. The issued event is the lasting record of the final invoice.
 */
export async function purgeTenant(
  tx: TenantTransaction,
  deps: BillingDeps,
  deletedAt: Date,
): Promise<string | null> {
  // Two replicas (or a replay) purging at once: the second waits here, then sees the tombstone.
  await tx.manager.query(`SELECT pg_advisory_xact_lock(hashtext('billing.purge:' || $1))`, [
    tx.tenantId,
  ]);
  if (await deps.subscriptions.isTombstoned(tx)) return null;
  const subscription = await deps.subscriptions.findForUpdate(tx);
  let finalNumber: string | null = null;
  if (subscription && subscription.status !== 'canceled') {
    const period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
    const until =
      deletedAt < period.start ? period.start : deletedAt > period.end ? period.end : deletedAt;
    const invoice = await issueInvoice(tx, deps, {
      subscription,
      period,
      chargeUntil: until,
      idempotencyKey: `final:${tx.tenantId}`,
      isFinal: true,
    });
    finalNumber = invoice?.number ?? null;
  }
  await deps.invoices.purgeTenant(tx);
  await forgetPublishedEvents(tx);
  await deps.invoices.tombstone(tx, deletedAt, finalNumber);
  await deps.outbox.publish(tx, TenantBillingPurgedEvent, {
    subject: tx.tenantId,
    data: {
      tenantId: tx.tenantId,
      finalInvoiceNumber: finalNumber,
      purgedAt: deps.clock.now().toISOString(),
    },
  });
  return finalNumber;
}
