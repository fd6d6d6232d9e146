import type { AvroRecordSchema } from '@tenantry/events';
import { defineEvent } from '@tenantry/events';

// Billing's published events and jobs. Amounts are integer minor units (Avro `long`) with an
// explicit ISO 4217 currency; never floating point. Evolve only by adding fields with defaults.

const TOPIC = 'billing.events';
const JOBS_TOPIC = 'billing.jobs';
const NAMESPACE = 'tenantry.billing';
const nullableString = { type: ['null', 'string'], default: null } as const;

function record(name: string, doc: string, fields: AvroRecordSchema['fields']): AvroRecordSchema {
  return { type: 'record', name, namespace: NAMESPACE, doc, fields };
}

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled';

/** What happened to the subscription. */
export type SubscriptionChange =
  | 'created'
  | 'upgraded'
  | 'downgrade-scheduled'
  | 'downgraded'
  | 'cancel-scheduled'
  | 'cancel-withdrawn'
  | 'canceled'
  | 'renewed'
  | 'past-due'
  | 'reactivated';

export interface SubscriptionChanged {
  tenantId: string;
  subscriptionId: string;
  change: SubscriptionChange;
  status: SubscriptionStatus;
  planCode: string;
  planVersion: number;
  previousPlanCode: string | null;
  /** A downgrade waiting for the period end. */
  pendingPlanCode: string | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  changedAt: string;
}
export const SubscriptionChangedEvent = defineEvent<SubscriptionChanged>({
  type: 'billing.subscription.changed',
  topic: TOPIC,
  schema: record('SubscriptionChanged', 'A tenant’s subscription was created or changed.', [
    { name: 'tenantId', type: 'string' },
    { name: 'subscriptionId', type: 'string' },
    { name: 'change', type: 'string' },
    { name: 'status', type: 'string' },
    { name: 'planCode', type: 'string' },
    { name: 'planVersion', type: 'int' },
    { name: 'previousPlanCode', ...nullableString },
    { name: 'pendingPlanCode', ...nullableString },
    { name: 'cancelAtPeriodEnd', type: 'boolean', default: false },
    { name: 'currentPeriodStart', type: 'string' },
    { name: 'currentPeriodEnd', type: 'string' },
    { name: 'changedAt', type: 'string' },
  ]),
});

export type InvoiceLineKind =
  'seats' | 'usage-overage' | 'late-usage' | 'proration-credit' | 'proration-charge';

export interface InvoiceLineData {
  kind: InvoiceLineKind;
  description: string;
  quantity: number;
  unitAmountMinor: number;
  amountMinor: number;
}

const invoiceLineSchema = {
  type: 'record',
  name: 'InvoiceLine',
  namespace: NAMESPACE,
  fields: [
    { name: 'kind', type: 'string' },
    { name: 'description', type: 'string' },
    { name: 'quantity', type: 'long' },
    { name: 'unitAmountMinor', type: 'long' },
    { name: 'amountMinor', type: 'long' },
  ],
} as const;

export interface InvoiceIssued {
  tenantId: string;
  invoiceId: string;
  /** Per-tenant, gapless: `INV-000001`. */
  number: string;
  currency: string;
  periodStart: string;
  periodEnd: string;
  lines: InvoiceLineData[];
  subtotalMinor: number;
  totalMinor: number;
  issuedAt: string;
  dueAt: string;
  /** The final invoice of a deleted tenant. */
  final: boolean;
}
export const InvoiceIssuedEvent = defineEvent<InvoiceIssued>({
  type: 'billing.invoice.issued',
  topic: TOPIC,
  schema: record('InvoiceIssued', 'An invoice was finalized and numbered; it is now immutable.', [
    { name: 'tenantId', type: 'string' },
    { name: 'invoiceId', type: 'string' },
    { name: 'number', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'periodStart', type: 'string' },
    { name: 'periodEnd', type: 'string' },
    { name: 'lines', type: { type: 'array', items: invoiceLineSchema }, default: [] },
    { name: 'subtotalMinor', type: 'long' },
    { name: 'totalMinor', type: 'long' },
    { name: 'issuedAt', type: 'string' },
    { name: 'dueAt', type: 'string' },
    { name: 'final', type: 'boolean', default: false },
  ]),
});

export interface InvoicePaid {
  tenantId: string;
  invoiceId: string;
  number: string;
  currency: string;
  amountMinor: number;
  /** `manual`: recorded by a person (bank transfer, cheque); the reference says which. */
  method: string;
  reference: string;
  paidAt: string;
}
export const InvoicePaidEvent = defineEvent<InvoicePaid>({
  type: 'billing.invoice.paid',
  topic: TOPIC,
  schema: record('InvoicePaid', 'A payment settled an issued invoice.', [
    { name: 'tenantId', type: 'string' },
    { name: 'invoiceId', type: 'string' },
    { name: 'number', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'amountMinor', type: 'long' },
    { name: 'method', type: 'string', default: 'manual' },
    { name: 'reference', type: 'string' },
    { name: 'paidAt', type: 'string' },
  ]),
});

export interface InvoiceVoided {
  tenantId: string;
  invoiceId: string;
  number: string;
  currency: string;
  reason: string;
  creditNoteId: string;
  creditNoteNumber: string;
  creditedMinor: number;
  voidedAt: string;
}
export const InvoiceVoidedEvent = defineEvent<InvoiceVoided>({
  type: 'billing.invoice.voided',
  topic: TOPIC,
  schema: record('InvoiceVoided', 'An issued invoice was voided; a credit note cancels it.', [
    { name: 'tenantId', type: 'string' },
    { name: 'invoiceId', type: 'string' },
    { name: 'number', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'reason', type: 'string' },
    { name: 'creditNoteId', type: 'string' },
    { name: 'creditNoteNumber', type: 'string' },
    { name: 'creditedMinor', type: 'long' },
    { name: 'voidedAt', type: 'string' },
  ]),
});

export interface CreditNoteIssued {
  tenantId: string;
  creditNoteId: string;
  /** Per-tenant, gapless, its own series: `CN-000001`. */
  number: string;
  invoiceId: string;
  invoiceNumber: string;
  currency: string;
  amountMinor: number;
  reason: string;
  issuedAt: string;
}
export const CreditNoteIssuedEvent = defineEvent<CreditNoteIssued>({
  type: 'billing.credit-note.issued',
  topic: TOPIC,
  schema: record('CreditNoteIssued', 'A credit note corrects (or, on void, cancels) an invoice.', [
    { name: 'tenantId', type: 'string' },
    { name: 'creditNoteId', type: 'string' },
    { name: 'number', type: 'string' },
    { name: 'invoiceId', type: 'string' },
    { name: 'invoiceNumber', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'amountMinor', type: 'long' },
    { name: 'reason', type: 'string' },
    { name: 'issuedAt', type: 'string' },
  ]),
});

export interface InvoiceOverdue {
  tenantId: string;
  invoiceId: string;
  number: string;
  currency: string;
  amountDueMinor: number;
  dueAt: string;
  detectedAt: string;
}
export const InvoiceOverdueEvent = defineEvent<InvoiceOverdue>({
  type: 'billing.invoice.overdue',
  topic: TOPIC,
  schema: record('InvoiceOverdue', 'An issued invoice is unpaid past its due date.', [
    { name: 'tenantId', type: 'string' },
    { name: 'invoiceId', type: 'string' },
    { name: 'number', type: 'string' },
    { name: 'currency', type: 'string' },
    { name: 'amountDueMinor', type: 'long' },
    { name: 'dueAt', type: 'string' },
    { name: 'detectedAt', type: 'string' },
  ]),
});

export interface TenantBillingPurged {
  tenantId: string;
  /** The last invoice issued before the purge, if any. */
  finalInvoiceNumber: string | null;
  purgedAt: string;
}
/** Billing's confirmation in the offboarding saga: nothing of the tenant is left but a tombstone. */
export const TenantBillingPurgedEvent = defineEvent<TenantBillingPurged>({
  type: 'billing.tenant.purged',
  topic: TOPIC,
  schema: record('TenantBillingPurged', 'Billing erased a deleted tenant’s data.', [
    { name: 'tenantId', type: 'string' },
    { name: 'finalInvoiceNumber', ...nullableString },
    { name: 'purgedAt', type: 'string' },
  ]),
});

/** Billing's domain events, for registering with the schema registry and for the audit log. */
export const BILLING_EVENTS = [
  SubscriptionChangedEvent,
  InvoiceIssuedEvent,
  InvoicePaidEvent,
  InvoiceVoidedEvent,
  CreditNoteIssuedEvent,
  InvoiceOverdueEvent,
  TenantBillingPurgedEvent,
] as const;

export interface PeriodCloseRequested {
  tenantId: string;
  subscriptionId: string;
  /** The period to close, [periodStart, periodEnd), ISO instants. */
  periodStart: string;
  periodEnd: string;
  /** Who asked: `service:billing-scheduler` or an operator (also in the envelope). */
  requestedByType: string;
  requestedById: string;
  /** 1 for the scheduler's first enqueue; a re-enqueue of the same period counts up. */
  attempt: number;
  /** `period-close:<tenant>:<periodEnd>`: one invoice per key, whoever runs the job. */
  idempotencyKey: string;
  requestedAt: string;
}
/** The background job that closes one tenant's billing period and issues its invoice. */
export const PeriodCloseRequestedJob = defineEvent<PeriodCloseRequested>({
  type: 'billing.period-close.requested',
  topic: JOBS_TOPIC,
  schema: record('PeriodCloseRequested', 'Close a tenant’s billing period and invoice it.', [
    { name: 'tenantId', type: 'string' },
    { name: 'subscriptionId', type: 'string' },
    { name: 'periodStart', type: 'string' },
    { name: 'periodEnd', type: 'string' },
    { name: 'requestedByType', type: 'string' },
    { name: 'requestedById', type: 'string' },
    { name: 'attempt', type: 'int', default: 1 },
    { name: 'idempotencyKey', type: 'string' },
    { name: 'requestedAt', type: 'string' },
  ]),
});

export const BILLING_JOBS = [PeriodCloseRequestedJob] as const;

/** The period-close job's idempotency key: one per tenant and period end. */
export function periodCloseIdempotencyKey(tenantId: string, periodEnd: Date | string): string {
  const end = typeof periodEnd === 'string' ? periodEnd : periodEnd.toISOString();
  return `period-close:${tenantId}:${end}`;
}
