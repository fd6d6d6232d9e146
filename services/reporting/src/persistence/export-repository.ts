import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import type { ExportFormat, ExportableReport } from '@tenantry/contracts';
import { queryRows } from './sql-rows';

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed' | 'expired';

export interface ReportExport {
  readonly id: string;
  readonly report: ExportableReport;
  readonly format: ExportFormat;
  readonly parameters: Record<string, unknown>;
  readonly status: ExportStatus;
  readonly attempts: number;
  readonly rows: number | null;
  /** Rows written so far and of how many, while the job runs (bounded steps, not per row). */
  readonly rowsWritten: number;
  readonly rowsTotal: number | null;
  readonly sizeBytes: number | null;
  readonly contentType: string | null;
  readonly error: string | null;
  readonly requestedBy: { type: string; id: string };
  readonly requestedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly expiresAt: Date | null;
  readonly expiredAt: Date | null;
}

interface Row {
  id: string;
  report: ExportableReport;
  format: ExportFormat;
  parameters: Record<string, unknown>;
  status: ExportStatus;
  attempts: number;
  rows: number | null;
  rows_written: number;
  rows_total: number | null;
  size_bytes: number | null;
  content_type: string | null;
  error: string | null;
  requested_by_type: string;
  requested_by_id: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  expired_at: Date | null;
}

const COLUMNS = `id, report, format, parameters, status, attempts, rows, rows_written, rows_total,
  size_bytes, content_type, error, requested_by_type, requested_by_id, requested_at, started_at,
  finished_at, expires_at, expired_at`;

function exportOf(r: Row): ReportExport {
  return {
    id: r.id,
    report: r.report,
    format: r.format,
    parameters: r.parameters,
    status: r.status,
    attempts: r.attempts,
    rows: r.rows,
    rowsWritten: r.rows_written,
    rowsTotal: r.rows_total,
    sizeBytes: r.size_bytes,
    contentType: r.content_type,
    error: r.error,
    requestedBy: { type: r.requested_by_type, id: r.requested_by_id },
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    expiresAt: r.expires_at,
    expiredAt: r.expired_at,
  };
}

/** An export whose file is due for deletion (read across tenants, by the sweeper). */
export interface DueExpiry {
  readonly tenantId: string;
  readonly exportId: string;
}

/** Export jobs and their state, per tenant; the files themselves are in an ExportFileStore. */
export class ExportRepository {
  async create(
    tx: TenantTransaction,
    e: {
      id: string;
      report: ExportableReport;
      format: ExportFormat;
      parameters: Record<string, unknown>;
      requestedBy: { type: string; id: string };
      requestedAt: Date;
    },
  ): Promise<ReportExport> {
    const [row] = await queryRows<Row>(
      tx,
      `INSERT INTO report_exports (tenant_id, id, report, format, parameters, status,
           requested_by_type, requested_by_id, requested_at)
       VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        tx.tenantId,
        e.id,
        e.report,
        e.format,
        JSON.stringify(e.parameters),
        e.requestedBy.type,
        e.requestedBy.id,
        e.requestedAt,
      ],
    );
    return exportOf(row as Row);
  }

  async find(tx: TenantTransaction, id: string, forUpdate = false): Promise<ReportExport | null> {
    const [row] = await queryRows<Row>(
      tx,
      `SELECT ${COLUMNS} FROM report_exports WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return row ? exportOf(row) : null;
  }

  /** Committed on its own, so a client sees `running` while the file is built. */
  async markRunning(tx: TenantTransaction, id: string, at: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'running', attempts = attempts + 1,
              started_at = COALESCE(started_at, $2), rows_written = 0, rows_total = NULL
        WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, at],
    );
  }

  /** Committed on its own while the job runs, so a client polling the export sees it move. */
  async progress(tx: TenantTransaction, id: string, written: number, total: number): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET rows_written = $2, rows_total = $3
        WHERE id = $1 AND status = 'running'`,
      [id, written, total],
    );
  }

  /** Done: the file is in the store; the sweeper deletes it at `expiresAt`. */
  async complete(
    tx: TenantTransaction,
    id: string,
    file: { contentType: string; rows: number; sizeBytes: number; at: Date; expiresAt: Date },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'done', content = NULL, content_type = $2, rows = $3,
              rows_written = $3, rows_total = $3, size_bytes = $4, finished_at = $5,
              expires_at = $6, error = NULL
        WHERE id = $1`,
      [id, file.contentType, file.rows, file.sizeBytes, file.at, file.expiresAt],
    );
    await tx.manager.query(
      `INSERT INTO export_expiries (tenant_id, export_id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, export_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [tx.tenantId, id, file.expiresAt],
    );
  }

  /**
   * The file was deleted: an export past its expiry says `expired`, and the export leaves the
   * sweeper's schedule.
   */
  async markExpired(tx: TenantTransaction, id: string, at: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'expired', expired_at = $2, content = NULL
        WHERE id = $1 AND status = 'done' AND expires_at <= $2`,
      [id, at],
    );
    await tx.manager.query(`DELETE FROM export_expiries WHERE tenant_id = $1 AND export_id = $2`, [
      tx.tenantId,
      id,
    ]);
  }

  /** Exports of every tenant whose file is due for deletion at `now`, oldest first. */
  async dueExpiries(dataSource: DataSource, now: Date, limit: number): Promise<DueExpiry[]> {
    const rows = (await dataSource.query(
      `SELECT tenant_id, export_id FROM export_expiries WHERE expires_at <= $1
        ORDER BY expires_at, tenant_id, export_id LIMIT $2`,
      [now, limit],
    )) as { tenant_id: string; export_id: string }[];
    return rows.map((r) => ({ tenantId: r.tenant_id, exportId: r.export_id }));
  }

  async fail(tx: TenantTransaction, id: string, error: string, at: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'failed', error = $2, finished_at = $3 WHERE id = $1`,
      [id, error, at],
    );
  }

  /**
   * What the download needs: the export's state, format and expiry, and its bytes when an older
   * version kept them in PostgreSQL (`content`) instead of the file store.
   */
  async download(
    tx: TenantTransaction,
    id: string,
  ): Promise<{
    status: ExportStatus;
    format: ExportFormat;
    report: string;
    contentType: string | null;
    expiresAt: Date | null;
    legacyContent: Buffer | null;
  } | null> {
    const [row] = await queryRows<{
      status: ExportStatus;
      format: ExportFormat;
      report: string;
      content_type: string | null;
      expires_at: Date | null;
      content: Buffer | null;
    }>(
      tx,
      `SELECT status, format, report, content_type, expires_at, content FROM report_exports
        WHERE id = $1`,
      [id],
    );
    return row
      ? {
          status: row.status,
          format: row.format,
          report: row.report,
          contentType: row.content_type,
          expiresAt: row.expires_at,
          legacyContent: row.content,
        }
      : null;
  }
}
