import { CreditNoteIssuedEvent, InvoicePaidEvent, InvoiceVoidedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { canTransition, documentNumber } from '../../domain/invoice-status';
import { toSafeNumber } from '../../domain/money';
import type { CreditNote, Invoice } from '../../persistence/invoice-repository';
import { BillingRefusedError } from '../billing-refused-error';
import type { BillingDeps } from '../billing-deps';
import { publishSubscriptionChanged } from '../subscription-events';
import type { EventIdFor } from '../event-ids';
import { randomEventIds } from '../event-ids';

const actorName = (actor: Actor): string => `${actor.type}:${actor.id}`;

async function lockedInvoice(
  tx: TenantTransaction,
  deps: BillingDeps,
  id: string,
): Promise<Invoice> {
  // The subscription row is the tenant's billing lock, taken first by every transaction that
  // changes invoices or the subscription (closing, plan changes, overdue checks): one lock order,
  // so two of them wait for each other instead of deadlocking.
  await deps.subscriptions.findForUpdate(tx);
  // Another tenant's invoice is invisible under RLS: the same 404 as a missing one.
  const invoice = await deps.invoices.find(tx, id, true);
  if (!invoice || invoice.status === 'draft') {
    throw new BillingRefusedError('not-found', 'No such invoice.');
  }
  return invoice;
}

/** A past_due subscription whose overdue invoices are all settled is active again. */
async function reactivateIfSettled(
  tx: TenantTransaction,
  deps: BillingDeps,
  eventIds: EventIdFor,
): Promise<void> {
  await deps.schedule.setOverdueCheck(tx, await deps.invoices.nextDueAt(tx));
  const subscription = await deps.subscriptions.findForUpdate(tx);
  if (subscription?.status !== 'past_due' || (await deps.invoices.hasOverdueUnpaid(tx))) return;
  const active = { ...subscription, status: 'active' as const };
  await deps.subscriptions.update(tx, active);
  await publishSubscriptionChanged(tx, deps, active, 'reactivated', null, eventIds);
}

/** Records a manual payment of the full amount (bank transfer, cheque...), audited by its event. */
export async function markInvoicePaid(
  tx: TenantTransaction,
  deps: BillingDeps,
  actor: Actor,
  input: { invoiceId: string; amountMinor: bigint; reference: string; eventIds?: EventIdFor },
): Promise<Invoice> {
  const eventIds = input.eventIds ?? randomEventIds;
  const invoice = await lockedInvoice(tx, deps, input.invoiceId);
  if (!canTransition(invoice.status, 'paid')) {
    throw new BillingRefusedError('conflict', `The invoice is ${invoice.status}.`);
  }
  if (input.amountMinor !== invoice.totalMinor) {
    throw new BillingRefusedError('unprocessable', 'The payment must be the invoice total.');
  }
  const paidAt = deps.clock.now();
  await deps.invoices.markPaid(tx, invoice.id, {
    paidAt,
    reference: input.reference,
    paidBy: actorName(actor),
  });
  await deps.outbox.publish(tx, InvoicePaidEvent, {
    id: eventIds(InvoicePaidEvent.type),
    subject: invoice.id,
    key: `${tx.tenantId}:invoices`,
    data: {
      tenantId: tx.tenantId,
      invoiceId: invoice.id,
      number: invoice.number as string,
      currency: invoice.currency,
      amountMinor: toSafeNumber(invoice.totalMinor),
      method: 'manual',
      reference: input.reference,
      paidAt: paidAt.toISOString(),
    },
  });
  await reactivateIfSettled(tx, deps, eventIds);
  return (await deps.invoices.find(tx, invoice.id)) as Invoice;
}

async function addCreditNote(
  tx: TenantTransaction,
  deps: BillingDeps,
  actor: Actor,
  invoice: Invoice,
  amountMinor: bigint,
  reason: string,
  eventIds: EventIdFor,
): Promise<CreditNote> {
  const sequence = await deps.invoices.nextSequence(tx, 'credit-note');
  const note = await deps.invoices.insertCreditNote(tx, {
    invoiceId: invoice.id,
    sequence,
    number: documentNumber('credit-note', sequence),
    currency: invoice.currency,
    amountMinor,
    reason,
    issuedAt: deps.clock.now(),
    issuedBy: actorName(actor),
  });
  await deps.outbox.publish(tx, CreditNoteIssuedEvent, {
    id: eventIds(CreditNoteIssuedEvent.type),
    subject: note.id,
    key: `${tx.tenantId}:invoices`,
    data: {
      tenantId: tx.tenantId,
      creditNoteId: note.id,
      number: note.number,
      invoiceId: invoice.id,
      invoiceNumber: invoice.number as string,
      currency: note.currency,
      amountMinor: toSafeNumber(amountMinor),
      reason,
      issuedAt: note.issuedAt.toISOString(),
    },
  });
  return note;
}

/** Voids an issued, unpaid invoice; a credit note for its whole total cancels it. */
export async function voidInvoice(
  tx: TenantTransaction,
  deps: BillingDeps,
  actor: Actor,
  input: { invoiceId: string; reason: string; eventIds?: EventIdFor },
): Promise<{ invoice: Invoice; creditNote: CreditNote }> {
  const eventIds = input.eventIds ?? randomEventIds;
  const invoice = await lockedInvoice(tx, deps, input.invoiceId);
  if (!canTransition(invoice.status, 'void')) {
    throw new BillingRefusedError('conflict', `The invoice is ${invoice.status}.`);
  }
  const credited = (await deps.invoices.creditNotes(tx, invoice.id)).reduce(
    (sum, n) => sum + n.amountMinor,
    0n,
  );
  const remaining = invoice.totalMinor - credited;
  const creditNote = await addCreditNote(
    tx,
    deps,
    actor,
    invoice,
    remaining > 0n ? remaining : 0n,
    `Void: ${input.reason}`,
    eventIds,
  );
  const voidedAt = deps.clock.now();
  await deps.invoices.markVoid(tx, invoice.id, {
    voidedAt,
    reason: input.reason,
    voidedBy: actorName(actor),
  });
  await deps.outbox.publish(tx, InvoiceVoidedEvent, {
    id: eventIds(InvoiceVoidedEvent.type),
    subject: invoice.id,
    key: `${tx.tenantId}:invoices`,
    data: {
      tenantId: tx.tenantId,
      invoiceId: invoice.id,
      number: invoice.number as string,
      currency: invoice.currency,
      reason: input.reason,
      creditNoteId: creditNote.id,
      creditNoteNumber: creditNote.number,
      creditedMinor: toSafeNumber(creditNote.amountMinor),
      voidedAt: voidedAt.toISOString(),
    },
  });
  await reactivateIfSettled(tx, deps, eventIds);
  return { invoice: (await deps.invoices.find(tx, invoice.id)) as Invoice, creditNote };
}

/** A correction: credits part of an issued or paid invoice, never more than is left of it. */
export async function issueCreditNote(
  tx: TenantTransaction,
  deps: BillingDeps,
  actor: Actor,
  input: { invoiceId: string; amountMinor: bigint; reason: string; eventIds?: EventIdFor },
): Promise<CreditNote> {
  const invoice = await lockedInvoice(tx, deps, input.invoiceId);
  if (invoice.status === 'void') throw new BillingRefusedError('conflict', 'The invoice is void.');
  const credited = (await deps.invoices.creditNotes(tx, invoice.id)).reduce(
    (sum, n) => sum + n.amountMinor,
    0n,
  );
  if (input.amountMinor <= 0n || credited + input.amountMinor > invoice.totalMinor) {
    throw new BillingRefusedError(
      'unprocessable',
      'The credit must be positive and within the invoice total.',
    );
  }
  return addCreditNote(
    tx,
    deps,
    actor,
    invoice,
    input.amountMinor,
    input.reason,
    input.eventIds ?? randomEventIds,
  );
}
