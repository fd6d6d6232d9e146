import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';

/** The report families; each has its own `asOf`. */
export type ReportStream = 'usage' | 'members' | 'billing' | 'activity';

export interface Freshness {
  /** The newest event time applied (null: no event yet). */
  readonly asOf: Date | null;
  readonly eventsApplied: number;
}

/** Per tenant and report family: the newest event applied and how many were. */
export class FreshnessRepository {
  /** Order-free: the newest time wins, the counts add up. */
  async applied(
    tx: TenantTransaction,
    stream: ReportStream,
    newest: Date,
    events = 1,
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO report_freshness (tenant_id, stream, as_of, events_applied)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, stream) DO UPDATE
         SET as_of = GREATEST(report_freshness.as_of, EXCLUDED.as_of),
             events_applied = report_freshness.events_applied + EXCLUDED.events_applied,
             updated_at = now()`,
      [tx.tenantId, stream, newest, events],
    );
  }

  async of(tx: TenantTransaction, stream: ReportStream): Promise<Freshness> {
    const rows = await queryRows<{ as_of: Date; events_applied: string }>(
      tx,
      `SELECT as_of, events_applied::text FROM report_freshness WHERE stream = $1`,
      [stream],
    );
    const row = rows[0];
    return row
      ? { asOf: row.as_of, eventsApplied: Number(row.events_applied) }
      : { asOf: null, eventsApplied: 0 };
  }
}
