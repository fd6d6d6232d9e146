import { randomUUID } from 'node:crypto';
import type { InvoiceLineKind } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { InvoiceLine, PendingCharge } from '../domain/invoice-builder';
import type { DocumentSeries, InvoiceStatus } from '../domain/invoice-status';
import { BILLING_PURGE_SETTING } from './migrations/billing-schema.migration';
import { queryRows } from './sql-rows';

export interface Invoice {
  readonly id: string;
  readonly status: InvoiceStatus;
  readonly number: string | null;
  readonly idempotencyKey: string;
  readonly currency: string;
  readonly planCode: string;
  readonly planVersion: number;
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly subtotalMinor: bigint;
  readonly totalMinor: bigint;
  readonly isFinal: boolean;
  readonly issuedAt: Date | null;
  readonly dueAt: Date | null;
  readonly overdueAt: Date | null;
  readonly paidAt: Date | null;
  readonly paymentReference: string | null;
  readonly voidedAt: Date | null;
  readonly voidReason: string | null;
}

export interface CreditNote {
  readonly id: string;
  readonly invoiceId: string;
  readonly number: string;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly reason: string;
  readonly issuedAt: Date;
}

interface InvoiceRow {
  id: string;
  status: InvoiceStatus;
  number: string | null;
  idempotency_key: string;
  currency: string;
  plan_code: string;
  plan_version: number;
  period_start: Date;
  period_end: Date;
  subtotal_minor: string;
  total_minor: string;
  is_final: boolean;
  issued_at: Date | null;
  due_at: Date | null;
  overdue_at: Date | null;
  paid_at: Date | null;
  payment_reference: string | null;
  voided_at: Date | null;
  void_reason: string | null;
}

function toInvoice(r: InvoiceRow): Invoice {
  return {
    id: r.id,
    status: r.status,
    number: r.number,
    idempotencyKey: r.idempotency_key,
    currency: r.currency,
    planCode: r.plan_code,
    planVersion: r.plan_version,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    subtotalMinor: BigInt(r.subtotal_minor),
    totalMinor: BigInt(r.total_minor),
    isFinal: r.is_final,
    issuedAt: r.issued_at,
    dueAt: r.due_at,
    overdueAt: r.overdue_at,
    paidAt: r.paid_at,
    paymentReference: r.payment_reference,
    voidedAt: r.voided_at,
    voidReason: r.void_reason,
  };
}

const INVOICE_COLUMNS = `id, status, number, idempotency_key, currency, plan_code, plan_version,
  period_start, period_end, subtotal_minor::text, total_minor::text, is_final, issued_at, due_at,
  overdue_at, paid_at, payment_reference, voided_at, void_reason`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewDraft {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly currency: string;
  readonly planCode: string;
  readonly planVersion: number;
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly isFinal: boolean;
  readonly createdAt: Date;
}

/** Invoices, their lines, credit notes, gapless numbers and charges waiting for an invoice. */
export class InvoiceRepository {
  /** A draft for one idempotency key; false when that key already has its invoice. */
  async insertDraft(tx: TenantTransaction, draft: NewDraft): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `INSERT INTO invoices (id, tenant_id, status, idempotency_key, currency, plan_code,
         plan_version, period_start, period_end, is_final, created_at)
       VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
      [
        draft.id,
        tx.tenantId,
        draft.idempotencyKey,
        draft.currency,
        draft.planCode,
        draft.planVersion,
        draft.periodStart,
        draft.periodEnd,
        draft.isFinal,
        draft.createdAt,
      ],
    );
    return rows.length === 1;
  }

  async insertLines(
    tx: TenantTransaction,
    invoiceId: string,
    lines: readonly InvoiceLine[],
  ): Promise<void> {
    for (const [i, line] of lines.entries()) {
      await tx.manager.query(
        `INSERT INTO invoice_lines (invoice_id, position, tenant_id, kind, description, quantity,
           unit_amount_minor, amount_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          invoiceId,
          i + 1,
          tx.tenantId,
          line.kind,
          line.description,
          line.quantity.toString(),
          line.unitAmountMinor.toString(),
          line.amountMinor.toString(),
        ],
      );
    }
  }

  /**
   * The next number of a series: the sequence row is locked until the transaction ends, so
   * numbers are handed out one at a time, and a rollback hands the number back (no gaps).
   */
  async nextSequence(tx: TenantTransaction, series: DocumentSeries): Promise<number> {
    const rows = await queryRows<{ last_number: number }>(
      tx,
      `INSERT INTO document_sequences (tenant_id, series, last_number) VALUES ($1, $2, 1)
       ON CONFLICT (tenant_id, series)
         DO UPDATE SET last_number = document_sequences.last_number + 1
       RETURNING last_number`,
      [tx.tenantId, series],
    );
    return (rows[0] as { last_number: number }).last_number;
  }

  async issue(
    tx: TenantTransaction,
    id: string,
    values: {
      sequence: number;
      number: string;
      subtotalMinor: bigint;
      totalMinor: bigint;
      issuedAt: Date;
      dueAt: Date;
    },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE invoices SET status = 'issued', sequence = $2, number = $3, subtotal_minor = $4,
         total_minor = $5, issued_at = $6, due_at = $7 WHERE id = $1 AND status = 'draft'`,
      [
        id,
        values.sequence,
        values.number,
        values.subtotalMinor.toString(),
        values.totalMinor.toString(),
        values.issuedAt,
        values.dueAt,
      ],
    );
  }

  async find(tx: TenantTransaction, id: string, forUpdate = false): Promise<Invoice | undefined> {
    // A malformed id is simply not found (no database error for a client's typo).
    if (!UUID.test(id)) return undefined;
    const rows = await queryRows<InvoiceRow>(
      tx,
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? toInvoice(rows[0]) : undefined;
  }

  async findByKey(tx: TenantTransaction, key: string): Promise<Invoice | undefined> {
    const rows = await queryRows<InvoiceRow>(
      tx,
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE idempotency_key = $1`,
      [key],
    );
    return rows[0] ? toInvoice(rows[0]) : undefined;
  }

  async list(tx: TenantTransaction, limit = 100): Promise<Invoice[]> {
    const rows = await queryRows<InvoiceRow>(
      tx,
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE status <> 'draft'
       ORDER BY sequence DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toInvoice);
  }

  async lines(tx: TenantTransaction, invoiceId: string): Promise<InvoiceLine[]> {
    const rows = await queryRows<{
      kind: InvoiceLineKind;
      description: string;
      quantity: string;
      unit_amount_minor: string;
      amount_minor: string;
    }>(
      tx,
      `SELECT kind, description, quantity::text, unit_amount_minor::text, amount_minor::text
       FROM invoice_lines WHERE invoice_id = $1 ORDER BY position`,
      [invoiceId],
    );
    return rows.map((r) => ({
      kind: r.kind,
      description: r.description,
      quantity: BigInt(r.quantity),
      unitAmountMinor: BigInt(r.unit_amount_minor),
      amountMinor: BigInt(r.amount_minor),
    }));
  }

  /** The issued invoice that covered a period start (for pricing its late usage). */
  async covering(tx: TenantTransaction, periodStart: Date): Promise<Invoice | undefined> {
    const rows = await queryRows<InvoiceRow>(
      tx,
      `SELECT ${INVOICE_COLUMNS} FROM invoices
       WHERE status <> 'draft' AND period_start <= $1 AND period_end > $1
       ORDER BY sequence LIMIT 1`,
      [periodStart],
    );
    return rows[0] ? toInvoice(rows[0]) : undefined;
  }

  async markPaid(
    tx: TenantTransaction,
    id: string,
    values: { paidAt: Date; reference: string; paidBy: string },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE invoices SET status = 'paid', paid_at = $2, payment_reference = $3, paid_by = $4
       WHERE id = $1`,
      [id, values.paidAt, values.reference, values.paidBy],
    );
  }

  async markVoid(
    tx: TenantTransaction,
    id: string,
    values: { voidedAt: Date; reason: string; voidedBy: string },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE invoices SET status = 'void', voided_at = $2, void_reason = $3, voided_by = $4
       WHERE id = $1`,
      [id, values.voidedAt, values.reason, values.voidedBy],
    );
  }

  async insertCreditNote(
    tx: TenantTransaction,
    note: Omit<CreditNote, 'id' | 'number'> & {
      sequence: number;
      number: string;
      issuedBy: string;
    },
  ): Promise<CreditNote> {
    const id = randomUUID();
    await tx.manager.query(
      `INSERT INTO credit_notes (id, tenant_id, invoice_id, sequence, number, currency,
         amount_minor, reason, issued_at, issued_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        id,
        tx.tenantId,
        note.invoiceId,
        note.sequence,
        note.number,
        note.currency,
        note.amountMinor.toString(),
        note.reason,
        note.issuedAt,
        note.issuedBy,
      ],
    );
    return { ...note, id };
  }

  async creditNotes(tx: TenantTransaction, invoiceId: string): Promise<CreditNote[]> {
    const rows = await queryRows<{
      id: string;
      invoice_id: string;
      number: string;
      currency: string;
      amount_minor: string;
      reason: string;
      issued_at: Date;
    }>(
      tx,
      `SELECT id, invoice_id, number, currency, amount_minor::text, reason, issued_at
       FROM credit_notes WHERE invoice_id = $1 ORDER BY sequence`,
      [invoiceId],
    );
    return rows.map((r) => ({
      id: r.id,
      invoiceId: r.invoice_id,
      number: r.number,
      currency: r.currency,
      amountMinor: BigInt(r.amount_minor),
      reason: r.reason,
      issuedAt: r.issued_at,
    }));
  }

  /** Issued, unpaid, not yet flagged, owing something, and past due at `now`. */
  async newlyOverdue(tx: TenantTransaction, now: Date): Promise<Invoice[]> {
    const rows = await queryRows<InvoiceRow>(
      tx,
      `SELECT ${INVOICE_COLUMNS} FROM invoices
       WHERE status = 'issued' AND overdue_at IS NULL AND total_minor > 0 AND due_at <= $1
       ORDER BY sequence FOR UPDATE`,
      [now],
    );
    return rows.map(toInvoice);
  }

  async markOverdue(tx: TenantTransaction, id: string, at: Date): Promise<void> {
    await tx.manager.query(`UPDATE invoices SET overdue_at = $2 WHERE id = $1`, [id, at]);
  }

  /** When the next unflagged unpaid invoice falls due (the scheduler's next look). */
  async nextDueAt(tx: TenantTransaction): Promise<Date | null> {
    const rows = await queryRows<{ due: Date | null }>(
      tx,
      `SELECT min(due_at) AS due FROM invoices
       WHERE status = 'issued' AND overdue_at IS NULL AND total_minor > 0`,
    );
    return rows[0]?.due ?? null;
  }

  async hasOverdueUnpaid(tx: TenantTransaction): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `SELECT id FROM invoices WHERE status = 'issued' AND overdue_at IS NOT NULL LIMIT 1`,
    );
    return rows.length > 0;
  }

  async addPending(tx: TenantTransaction, charge: PendingCharge, at: Date): Promise<void> {
    await tx.manager.query(
      `INSERT INTO pending_items (id, tenant_id, kind, description, quantity, unit_amount_minor,
         amount_minor, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        randomUUID(),
        tx.tenantId,
        charge.kind,
        charge.description,
        charge.quantity.toString(),
        charge.unitAmountMinor.toString(),
        charge.amountMinor.toString(),
        charge.currency,
        at,
      ],
    );
  }

  async pending(tx: TenantTransaction): Promise<PendingCharge[]> {
    return this.pendingRows(
      tx,
      `SELECT * FROM pending_items WHERE invoice_id IS NULL ORDER BY created_at`,
    );
  }

  /** Takes every waiting charge onto `invoiceId` (in one statement, as with usage). */
  async claimPending(tx: TenantTransaction, invoiceId: string): Promise<PendingCharge[]> {
    return this.pendingRows(
      tx,
      `WITH claimed AS (
         UPDATE pending_items SET invoice_id = $1 WHERE invoice_id IS NULL RETURNING *
       ) SELECT * FROM claimed ORDER BY created_at`,
      [invoiceId],
    );
  }

  private async pendingRows(
    tx: TenantTransaction,
    sql: string,
    params: unknown[] = [],
  ): Promise<PendingCharge[]> {
    const rows = await queryRows<{
      kind: InvoiceLineKind;
      description: string;
      quantity: string;
      unit_amount_minor: string;
      amount_minor: string;
      currency: string;
    }>(tx, sql, params);
    return rows.map((r) => ({
      kind: r.kind,
      description: r.description,
      quantity: BigInt(r.quantity),
      unitAmountMinor: BigInt(r.unit_amount_minor),
      amountMinor: BigInt(r.amount_minor),
      currency: r.currency,
    }));
  }

  /**
   * Erases everything billing holds of the tenant (offboarding), issued documents included:
   * only this path sets the purge setting the immutability triggers let through.
   */
  async purgeTenant(tx: TenantTransaction): Promise<void> {
    await tx.manager.query(`SELECT set_config($1, 'on', true)`, [BILLING_PURGE_SETTING]);
    for (const table of [
      'invoice_lines',
      'credit_notes',
      'invoices',
      'pending_items',
      'usage_ledger',
      'usage_aggregates',
      'seat_events',
      'document_sequences',
      'subscriptions',
      'billing_schedule',
      // Stored responses of keyed requests (ADR 0012): they may quote the tenant's data.
      'idempotency_keys',
    ]) {
      await tx.manager.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tx.tenantId]);
    }
    await tx.manager.query(`SELECT set_config($1, 'off', true)`, [BILLING_PURGE_SETTING]);
  }

  async tombstone(
    tx: TenantTransaction,
    deletedAt: Date,
    finalInvoiceNumber: string | null,
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO tenant_tombstones (tenant_id, deleted_at, final_invoice_number)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [tx.tenantId, deletedAt, finalInvoiceNumber],
    );
  }
}
