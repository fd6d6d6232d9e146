import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';

export interface SubscriptionFact {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly change: string;
  readonly status: string;
  readonly planCode: string;
  readonly planVersion: number;
  readonly pendingPlanCode: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly changedAt: Date;
}

export interface SubscriptionRow {
  readonly subscriptionId: string;
  readonly status: string;
  readonly planCode: string;
  readonly planVersion: number;
  readonly pendingPlanCode: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly lastChange: string;
  readonly changedAt: Date;
}

export interface RevenueRow {
  /** `YYYY-MM` (UTC). */
  readonly period: string;
  readonly currency: string;
  readonly invoicedMinor: bigint;
  readonly creditedMinor: bigint;
  readonly collectedMinor: bigint;
}

export interface InvoiceCounts {
  readonly open: number;
  readonly overdue: number;
  readonly paid: number;
  readonly void: number;
}

/**
 * Subscription, invoices and credit notes as billing reported them. Each invoice event fills its
 * own columns (first-seen instants kept with LEAST), so the row is the same in any order;
 * the subscription is the newest change by (changed at, event id).
 */
export class BillingRepository {
  async subscriptionChanged(tx: TenantTransaction, fact: SubscriptionFact): Promise<void> {
    await tx.manager.query(
      `INSERT INTO subscription_state AS s (tenant_id, subscription_id, status, plan_code,
           plan_version, pending_plan_code, cancel_at_period_end, current_period_start,
           current_period_end, last_change, changed_at, event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (tenant_id) DO UPDATE SET
         subscription_id = EXCLUDED.subscription_id, status = EXCLUDED.status,
         plan_code = EXCLUDED.plan_code, plan_version = EXCLUDED.plan_version,
         pending_plan_code = EXCLUDED.pending_plan_code,
         cancel_at_period_end = EXCLUDED.cancel_at_period_end,
         current_period_start = EXCLUDED.current_period_start,
         current_period_end = EXCLUDED.current_period_end,
         last_change = EXCLUDED.last_change, changed_at = EXCLUDED.changed_at,
         event_id = EXCLUDED.event_id
       WHERE (s.changed_at, s.event_id) < (EXCLUDED.changed_at, EXCLUDED.event_id)`,
      [
        tx.tenantId,
        fact.subscriptionId,
        fact.status,
        fact.planCode,
        fact.planVersion,
        fact.pendingPlanCode,
        fact.cancelAtPeriodEnd,
        fact.currentPeriodStart,
        fact.currentPeriodEnd,
        fact.change,
        fact.changedAt,
        fact.eventId,
      ],
    );
  }

  async invoiceIssued(
    tx: TenantTransaction,
    invoice: {
      invoiceId: string;
      number: string;
      currency: string;
      periodStart: Date;
      periodEnd: Date;
      subtotalMinor: bigint;
      totalMinor: bigint;
      final: boolean;
      issuedAt: Date;
      dueAt: Date;
    },
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO invoices AS i (tenant_id, invoice_id, number, currency, period_start,
           period_end, subtotal_minor, total_minor, is_final, issued_at, due_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET
         number = EXCLUDED.number, currency = EXCLUDED.currency,
         period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
         subtotal_minor = EXCLUDED.subtotal_minor, total_minor = EXCLUDED.total_minor,
         is_final = EXCLUDED.is_final,
         issued_at = LEAST(i.issued_at, EXCLUDED.issued_at), due_at = EXCLUDED.due_at`,
      [
        tx.tenantId,
        invoice.invoiceId,
        invoice.number,
        invoice.currency,
        invoice.periodStart,
        invoice.periodEnd,
        invoice.subtotalMinor.toString(),
        invoice.totalMinor.toString(),
        invoice.final,
        invoice.issuedAt,
        invoice.dueAt,
      ],
    );
  }

  /** Paid, voided or flagged overdue: sets that event's instant (the earliest, if seen twice). */
  async invoiceMarked(
    tx: TenantTransaction,
    mark: {
      invoiceId: string;
      number: string;
      currency: string;
      kind: 'paid' | 'voided' | 'overdue';
      at: Date;
      paidMinor?: bigint;
    },
  ): Promise<void> {
    const column = { paid: 'paid_at', voided: 'voided_at', overdue: 'overdue_at' }[mark.kind];
    await tx.manager.query(
      `INSERT INTO invoices AS i (tenant_id, invoice_id, number, currency, ${column}, paid_minor)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, invoice_id) DO UPDATE SET
         number = COALESCE(i.number, EXCLUDED.number),
         currency = COALESCE(i.currency, EXCLUDED.currency),
         ${column} = LEAST(i.${column}, EXCLUDED.${column}),
         paid_minor = COALESCE(EXCLUDED.paid_minor, i.paid_minor)`,
      [
        tx.tenantId,
        mark.invoiceId,
        mark.number,
        mark.currency,
        mark.at,
        mark.paidMinor === undefined ? null : mark.paidMinor.toString(),
      ],
    );
  }

  async creditNoteIssued(
    tx: TenantTransaction,
    note: {
      creditNoteId: string;
      invoiceId: string;
      number: string;
      currency: string;
      amountMinor: bigint;
      issuedAt: Date;
    },
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO credit_notes (tenant_id, credit_note_id, invoice_id, number, currency,
           amount_minor, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [
        tx.tenantId,
        note.creditNoteId,
        note.invoiceId,
        note.number,
        note.currency,
        note.amountMinor.toString(),
        note.issuedAt,
      ],
    );
  }

  async subscription(tx: TenantTransaction): Promise<SubscriptionRow | null> {
    const [row] = await queryRows<{
      subscription_id: string;
      status: string;
      plan_code: string;
      plan_version: number;
      pending_plan_code: string | null;
      cancel_at_period_end: boolean;
      current_period_start: Date;
      current_period_end: Date;
      last_change: string;
      changed_at: Date;
    }>(tx, `SELECT * FROM subscription_state`);
    if (!row) return null;
    return {
      subscriptionId: row.subscription_id,
      status: row.status,
      planCode: row.plan_code,
      planVersion: row.plan_version,
      pendingPlanCode: row.pending_plan_code,
      cancelAtPeriodEnd: row.cancel_at_period_end,
      currentPeriodStart: row.current_period_start,
      currentPeriodEnd: row.current_period_end,
      lastChange: row.last_change,
      changedAt: row.changed_at,
    };
  }

  /** Invoices by their state now (an invoice known only from a payment counts as paid). */
  async invoiceCounts(tx: TenantTransaction): Promise<InvoiceCounts> {
    const [row] = await queryRows<InvoiceCounts>(
      tx,
      `SELECT count(*) FILTER (WHERE voided_at IS NULL AND paid_at IS NULL
                                 AND issued_at IS NOT NULL)::int AS open,
              count(*) FILTER (WHERE voided_at IS NULL AND paid_at IS NULL
                                 AND overdue_at IS NOT NULL)::int AS overdue,
              count(*) FILTER (WHERE voided_at IS NULL AND paid_at IS NOT NULL)::int AS paid,
              count(*) FILTER (WHERE voided_at IS NOT NULL)::int AS void
         FROM invoices`,
    );
    return row ?? { open: 0, overdue: 0, paid: 0, void: 0 };
  }

  /**
   * Per UTC month and currency: invoiced (issued totals, by issue month), credited (credit
   * notes, by their month) and collected (payments, by payment month), in minor units.
   */
  async revenue(tx: TenantTransaction): Promise<RevenueRow[]> {
    const rows = await queryRows<{
      period: string;
      currency: string;
      invoiced: string;
      credited: string;
      collected: string;
    }>(
      tx,
      `SELECT period, currency, sum(invoiced)::text AS invoiced, sum(credited)::text AS credited,
              sum(collected)::text AS collected
         FROM (
           SELECT to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM') AS period, currency,
                  total_minor AS invoiced, 0 AS credited, 0 AS collected
             FROM invoices WHERE issued_at IS NOT NULL AND total_minor IS NOT NULL
           UNION ALL
           SELECT to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM'), currency, 0, amount_minor, 0
             FROM credit_notes
           UNION ALL
           SELECT to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM'), currency, 0, 0, paid_minor
             FROM invoices WHERE paid_at IS NOT NULL AND paid_minor IS NOT NULL
         ) facts
        GROUP BY period, currency
        ORDER BY period, currency`,
    );
    return rows.map((r) => ({
      period: r.period,
      currency: r.currency.trim(),
      invoicedMinor: BigInt(r.invoiced),
      creditedMinor: BigInt(r.credited),
      collectedMinor: BigInt(r.collected),
    }));
  }
}
