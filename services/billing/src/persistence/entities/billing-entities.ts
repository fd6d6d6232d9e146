import { CreditNoteEntity } from './credit-note.entity';
import { InvoiceLineEntity } from './invoice-line.entity';
import { InvoiceEntity } from './invoice.entity';
import { PlanEntity } from './plan.entity';
import { SubscriptionEntity } from './subscription.entity';

// The ledger, aggregates, seat history, sequences and schedule are written with explicit SQL
// (upserts, ON CONFLICT, row locks); these entities describe the documents a tenant reads.
export const BILLING_ENTITIES = [
  PlanEntity,
  SubscriptionEntity,
  InvoiceEntity,
  InvoiceLineEntity,
  CreditNoteEntity,
];
