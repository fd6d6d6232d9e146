import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { queryRows, returnedRows } from './sql-rows';

export interface DueClose {
  readonly tenantId: string;
  readonly periodEnd: Date;
}

/**
 * When each tenant's period ends and its next invoice falls due: the only table the scheduler
 * reads across tenants (tenant-bound writes, see the migration).
 */
export class ScheduleRepository {
  async setPeriodEnd(tx: TenantTransaction, periodEnd: Date | null): Promise<void> {
    await tx.manager.query(
      `INSERT INTO billing_schedule (tenant_id, period_end) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET period_end = EXCLUDED.period_end`,
      [tx.tenantId, periodEnd],
    );
  }

  async setOverdueCheck(tx: TenantTransaction, at: Date | null): Promise<void> {
    await tx.manager.query(
      `INSERT INTO billing_schedule (tenant_id, overdue_check_at) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET overdue_check_at = EXCLUDED.overdue_check_at`,
      [tx.tenantId, at],
    );
  }

  /** Locks the tenant's row and says which attempt an enqueue for `periodEnd` would be. */
  async claimEnqueue(
    tx: TenantTransaction,
    periodEnd: Date,
    now: Date,
    retryMs: number,
  ): Promise<number | undefined> {
    const rows = await queryRows<{
      period_end: Date | null;
      close_enqueued_for: Date | null;
      close_attempts: number;
      close_enqueued_at: Date | null;
    }>(tx, `SELECT * FROM billing_schedule FOR UPDATE`);
    const row = rows[0];
    if (!row?.period_end || row.period_end.getTime() !== periodEnd.getTime()) return undefined;
    const same = row.close_enqueued_for?.getTime() === periodEnd.getTime();
    if (
      same &&
      row.close_enqueued_at &&
      now.getTime() - row.close_enqueued_at.getTime() < retryMs
    ) {
      return undefined;
    }
    const attempt = same ? row.close_attempts + 1 : 1;
    await tx.manager.query(
      `UPDATE billing_schedule SET close_enqueued_for = $1, close_attempts = $2,
         close_enqueued_at = $3`,
      [periodEnd, attempt, now],
    );
    return attempt;
  }

  async remove(tx: TenantTransaction): Promise<void> {
    await tx.manager.query(`DELETE FROM billing_schedule`);
  }

  /** Across tenants: periods that ended and were not enqueued (or whose job is overdue). */
  async dueCloses(
    dataSource: DataSource,
    now: Date,
    retryMs: number,
    limit = 500,
  ): Promise<DueClose[]> {
    const rows = returnedRows<{ tenant_id: string; period_end: Date }>(
      await dataSource.query(
        `SELECT tenant_id, period_end FROM billing_schedule
         WHERE period_end <= $1
           AND (close_enqueued_for IS DISTINCT FROM period_end
                OR close_enqueued_at <= $1::timestamptz - make_interval(secs => $2::double precision / 1000))
         ORDER BY period_end LIMIT $3`,
        [now, retryMs, limit],
      ),
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, periodEnd: r.period_end }));
  }

  /** Across tenants: who has an invoice that fell due. */
  async dueOverdueChecks(dataSource: DataSource, now: Date, limit = 500): Promise<string[]> {
    const rows = returnedRows<{ tenant_id: string }>(
      await dataSource.query(
        `SELECT tenant_id FROM billing_schedule WHERE overdue_check_at <= $1
         ORDER BY overdue_check_at LIMIT $2`,
        [now, limit],
      ),
    );
    return rows.map((r) => r.tenant_id);
  }
}
