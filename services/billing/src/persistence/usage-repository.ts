import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';

export const API_CALLS_METER = 'api_calls';

export interface UsageRecord {
  readonly eventId: string;
  readonly meter: string;
  readonly quantity: bigint;
  readonly occurredAt: Date;
  /** Start of the billing period the usage belongs to (by when it happened, not arrived). */
  readonly periodStart: Date;
}

export interface BilledUsage {
  readonly periodStart: Date;
  readonly quantity: bigint;
}

/** The usage ledger (one row per event) and its per-period aggregates. */
export class UsageRepository {
  /**
   * Records one event's usage once per (tenant, event id), whatever consumer or replay brought
   * it, and adds it to its period's aggregate only when the row is new.
   */
  async record(tx: TenantTransaction, usage: UsageRecord): Promise<boolean> {
    const rows = await queryRows<{ n: number }>(
      tx,
      `WITH inserted AS (
         INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, event_id) DO NOTHING
         RETURNING quantity
       ), aggregated AS (
         INSERT INTO usage_aggregates (tenant_id, period_start, meter, quantity)
         SELECT $1, $6, $3, quantity FROM inserted
         ON CONFLICT (tenant_id, period_start, meter)
           DO UPDATE SET quantity = usage_aggregates.quantity + EXCLUDED.quantity
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM aggregated`,
      [
        tx.tenantId,
        usage.eventId,
        usage.meter,
        usage.quantity.toString(),
        usage.occurredAt,
        usage.periodStart,
      ],
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  /** The period's running total of a meter. */
  async total(tx: TenantTransaction, periodStart: Date, meter = API_CALLS_METER): Promise<bigint> {
    const rows = await queryRows<{ quantity: string }>(
      tx,
      `SELECT quantity::text FROM usage_aggregates WHERE period_start = $1 AND meter = $2`,
      [periodStart, meter],
    );
    return BigInt(rows[0]?.quantity ?? '0');
  }

  /**
   * Marks every not-yet-invoiced row that happened before `before` as billed by `invoiceId` and
   * returns what it marked, per period, in one statement: a row recorded concurrently is either
   * in this set or left for the next invoice, never half counted.
   */
  async claimUnbilled(
    tx: TenantTransaction,
    invoiceId: string,
    before: Date | null,
  ): Promise<BilledUsage[]> {
    const rows = await queryRows<{ period_start: Date; quantity: string }>(
      tx,
      `WITH billed AS (
         UPDATE usage_ledger SET invoice_id = $1
         WHERE invoice_id IS NULL AND meter = $2 AND ($3::timestamptz IS NULL OR occurred_at < $3)
         RETURNING period_start, quantity
       )
       SELECT period_start, sum(quantity)::text AS quantity FROM billed
       GROUP BY period_start ORDER BY period_start`,
      [invoiceId, API_CALLS_METER, before],
    );
    return rows.map((r) => ({ periodStart: r.period_start, quantity: BigInt(r.quantity) }));
  }

  /** Calls of a period already billed by invoices other than `exceptInvoice`. */
  async billedBefore(
    tx: TenantTransaction,
    periodStart: Date,
    exceptInvoice: string,
  ): Promise<bigint> {
    const rows = await queryRows<{ quantity: string | null }>(
      tx,
      `SELECT sum(quantity)::text AS quantity FROM usage_ledger
       WHERE period_start = $1 AND meter = $2 AND invoice_id IS NOT NULL AND invoice_id <> $3`,
      [periodStart, API_CALLS_METER, exceptInvoice],
    );
    return BigInt(rows[0]?.quantity ?? '0');
  }
}
