import type { TenantTransaction } from '@tenantry/db';
import type { ExportFormat, ExportableReport } from '@tenantry/contracts';
import { queryRows } from './sql-rows';

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ReportExport {
  readonly id: string;
  readonly report: ExportableReport;
  readonly format: ExportFormat;
  readonly parameters: Record<string, unknown>;
  readonly status: ExportStatus;
  readonly attempts: number;
  readonly rows: number | null;
  readonly sizeBytes: number | null;
  readonly contentType: string | null;
  readonly error: string | null;
  readonly requestedBy: { type: string; id: string };
  readonly requestedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly expiresAt: Date | null;
}

interface Row {
  id: string;
  report: ExportableReport;
  format: ExportFormat;
  parameters: Record<string, unknown>;
  status: ExportStatus;
  attempts: number;
  rows: number | null;
  size_bytes: number | null;
  content_type: string | null;
  error: string | null;
  requested_by_type: string;
  requested_by_id: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
}

const COLUMNS = `id, report, format, parameters, status, attempts, rows, size_bytes, content_type,
  error, requested_by_type, requested_by_id, requested_at, started_at, finished_at, expires_at`;

function exportOf(r: Row): ReportExport {
  return {
    id: r.id,
    report: r.report,
    format: r.format,
    parameters: r.parameters,
    status: r.status,
    attempts: r.attempts,
    rows: r.rows,
    sizeBytes: r.size_bytes,
    contentType: r.content_type,
    error: r.error,
    requestedBy: { type: r.requested_by_type, id: r.requested_by_id },
    requestedAt: r.requested_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    expiresAt: r.expires_at,
  };
}

/** Export jobs and their files, per tenant. */
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
              started_at = COALESCE(started_at, $2)
        WHERE id = $1 AND status IN ('queued', 'running')`,
      [id, at],
    );
  }

  async complete(
    tx: TenantTransaction,
    id: string,
    file: { content: Buffer; contentType: string; rows: number; at: Date; expiresAt: Date },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'done', content = $2, content_type = $3, rows = $4,
              size_bytes = $5, finished_at = $6, expires_at = $7, error = NULL
        WHERE id = $1`,
      [id, file.content, file.contentType, file.rows, file.content.length, file.at, file.expiresAt],
    );
  }

  async fail(tx: TenantTransaction, id: string, error: string, at: Date): Promise<void> {
    await tx.manager.query(
      `UPDATE report_exports SET status = 'failed', error = $2, finished_at = $3 WHERE id = $1`,
      [id, error, at],
    );
  }

  /** The file of a finished export that has not expired. */
  async content(
    tx: TenantTransaction,
    id: string,
    now: Date,
  ): Promise<{
    content: Buffer;
    contentType: string;
    format: ExportFormat;
    report: string;
  } | null> {
    const [row] = await queryRows<{
      content: Buffer;
      content_type: string;
      format: ExportFormat;
      report: string;
    }>(
      tx,
      `SELECT content, content_type, format, report FROM report_exports
        WHERE id = $1 AND status = 'done' AND expires_at > $2`,
      [id, now],
    );
    return row
      ? {
          content: row.content,
          contentType: row.content_type,
          format: row.format,
          report: row.report,
        }
      : null;
  }
}
