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
   * Many events' usage of the transaction's tenant in two statements, whatever the count: the
   * new rows into the ledger (a row already there, from a copy or a replay, is skipped), then
   * their sum into each period's aggregate, so a flood of one tenant updates its aggregate row
   * once per batch rather than once per call. Returns how many rows were new.
   *
   * `shard` picks which of the period's aggregate rows takes the sum (ADR 0017): transactions of
   * one tenant that run at once must name different shards, or the second waits for the first's
   * commit on the row it locked. The usage consumer names the Kafka partition of the events.
   */
  async recordMany(
    tx: TenantTransaction,
    usage: readonly UsageRecord[],
    shard: number,
  ): Promise<number> {
    if (usage.length === 0) return 0;
    if (!Number.isInteger(shard) || shard < 0) throw new Error(`invalid aggregate shard ${shard}`);
    const rows = await queryRows<{ n: number }>(
      tx,
      `WITH inserted AS (
         INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
         SELECT $1, u.event_id, u.meter, u.quantity, u.occurred_at, u.period_start
         FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[])
           AS u(event_id, meter, quantity, occurred_at, period_start)
         ON CONFLICT (tenant_id, event_id) DO NOTHING
         RETURNING meter, quantity, period_start
       ), summed AS (
         SELECT period_start, meter, sum(quantity) AS quantity, count(*) AS n
         FROM inserted GROUP BY period_start, meter
       ), aggregated AS (
         INSERT INTO usage_aggregates (tenant_id, period_start, meter, shard, quantity)
         SELECT $1, period_start, meter, $7, quantity FROM summed
         ON CONFLICT (tenant_id, period_start, meter, shard)
           DO UPDATE SET quantity = usage_aggregates.quantity + EXCLUDED.quantity
         RETURNING 1
       )
       SELECT coalesce((SELECT sum(n) FROM summed), 0)::int AS n,
              (SELECT count(*) FROM aggregated)::int AS aggregates`,
      [
        tx.tenantId,
        usage.map((u) => u.eventId),
        usage.map((u) => u.meter),
        usage.map((u) => u.quantity.toString()),
        // ISO text: pg's own Date formatting per array element cost more than the rest of a row.
        usage.map((u) => u.occurredAt.toISOString()),
        usage.map((u) => u.periodStart.toISOString()),
        shard,
      ],
    );
    return rows[0]?.n ?? 0;
  }

  /** The period's running total of a meter: the sum of its shards. */
  async total(tx: TenantTransaction, periodStart: Date, meter = API_CALLS_METER): Promise<bigint> {
    const rows = await queryRows<{ quantity: string }>(
      tx,
      `SELECT coalesce(sum(quantity), 0)::text AS quantity FROM usage_aggregates
       WHERE period_start = $1 AND meter = $2`,
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
