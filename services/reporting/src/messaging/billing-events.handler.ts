import {
  CreditNoteIssuedEvent,
  InvoiceIssuedEvent,
  InvoiceOverdueEvent,
  InvoicePaidEvent,
  InvoiceVoidedEvent,
  SubscriptionChangedEvent,
} from '@tenantry/contracts';
import type { EventEnvelope } from '@tenantry/events';
import type { ReadModelDeps } from './read-model-deps';
import type { ReadModelRegistration } from './read-model-handler';
import { eventTime, readModelHandler } from './read-model-handler';

/** Changes a person (or their key) made, not the scheduler's renewals and period closes. */
const byPerson = (event: EventEnvelope<unknown>): boolean => event.actortype !== 'service';

const minor = (value: number): bigint => BigInt(Math.trunc(value));

/** Billing's events -> subscription, invoices, credit notes, revenue, activity. */
export function billingEventHandlers(deps: ReadModelDeps): ReadModelRegistration[] {
  return [
    readModelHandler(deps, SubscriptionChangedEvent, {
      platform: true,
      stream: 'billing',
      time: (d) => d.changedAt,
      apply: (event, tx, at) =>
        deps.billing.subscriptionChanged(tx, {
          eventId: event.id,
          subscriptionId: event.data.subscriptionId,
          change: event.data.change,
          status: event.data.status,
          planCode: event.data.planCode,
          planVersion: event.data.planVersion,
          pendingPlanCode: event.data.pendingPlanCode,
          cancelAtPeriodEnd: event.data.cancelAtPeriodEnd,
          currentPeriodStart: eventTime(event.data.currentPeriodStart, event.time),
          currentPeriodEnd: eventTime(event.data.currentPeriodEnd, event.time),
          changedAt: at,
        }),
      activity: (event) =>
        byPerson(event)
          ? `Subscription ${event.data.change}: plan ${event.data.planCode}, ${event.data.status}`
          : undefined,
    }),
    readModelHandler(deps, InvoiceIssuedEvent, {
      stream: 'billing',
      time: (d) => d.issuedAt,
      // Billing issues it while it purges the tenant, so it may land after reporting's purge.
      offboardingTail: ({ data }) => data.final,
      apply: (event, tx, at) =>
        deps.billing.invoiceIssued(tx, {
          invoiceId: event.data.invoiceId,
          number: event.data.number,
          currency: event.data.currency,
          periodStart: eventTime(event.data.periodStart, event.time),
          periodEnd: eventTime(event.data.periodEnd, event.time),
          subtotalMinor: minor(event.data.subtotalMinor),
          totalMinor: minor(event.data.totalMinor),
          final: event.data.final,
          issuedAt: at,
          dueAt: eventTime(event.data.dueAt, event.time),
        }),
    }),
    readModelHandler(deps, InvoicePaidEvent, {
      stream: 'billing',
      time: (d) => d.paidAt,
      apply: (event, tx, at) =>
        deps.billing.invoiceMarked(tx, {
          invoiceId: event.data.invoiceId,
          number: event.data.number,
          currency: event.data.currency,
          kind: 'paid',
          at,
          paidMinor: minor(event.data.amountMinor),
        }),
      activity: ({ data }) => `Invoice ${data.number} paid (${data.method} ${data.reference})`,
    }),
    readModelHandler(deps, InvoiceVoidedEvent, {
      stream: 'billing',
      time: (d) => d.voidedAt,
      apply: (event, tx, at) =>
        deps.billing.invoiceMarked(tx, {
          invoiceId: event.data.invoiceId,
          number: event.data.number,
          currency: event.data.currency,
          kind: 'voided',
          at,
        }),
      activity: ({ data }) => `Invoice ${data.number} voided, credit note ${data.creditNoteNumber}`,
    }),
    readModelHandler(deps, InvoiceOverdueEvent, {
      stream: 'billing',
      time: (d) => d.detectedAt,
      apply: (event, tx, at) =>
        deps.billing.invoiceMarked(tx, {
          invoiceId: event.data.invoiceId,
          number: event.data.number,
          currency: event.data.currency,
          kind: 'overdue',
          at,
        }),
    }),
    readModelHandler(deps, CreditNoteIssuedEvent, {
      stream: 'billing',
      time: (d) => d.issuedAt,
      apply: (event, tx, at) =>
        deps.billing.creditNoteIssued(tx, {
          creditNoteId: event.data.creditNoteId,
          invoiceId: event.data.invoiceId,
          number: event.data.number,
          currency: event.data.currency,
          amountMinor: minor(event.data.amountMinor),
          issuedAt: at,
        }),
      activity: ({ data }) => `Credit note ${data.number} issued for invoice ${data.invoiceNumber}`,
    }),
  ];
}
