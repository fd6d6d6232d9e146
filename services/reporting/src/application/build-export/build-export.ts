import type { ExportFormat, ExportableReport } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { CsvValue } from '../../domain/csv';
import { csvRecord } from '../../domain/csv';
import type { Granularity } from '../../domain/report-range';
import { reportRange } from '../../domain/report-range';
import { usageReport } from '../../domain/usage-report';
import type { ReadModelDeps } from '../../messaging/read-model-deps';

/** An export that cannot be built as asked: it fails (no retry would help). */
export class ExportRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ExportRefusedError';
  }
}

/** Where the rows go, and who hears how far the job got. */
export interface ExportSink {
  write(chunk: string): Promise<void>;
  /** Called every twentieth of the rows or so (whole pages), and once at the end. */
  progress(written: number, total: number): Promise<void>;
}

export interface BuiltExport {
  readonly contentType: string;
  readonly rows: number;
}

/** A report as a table: its header, row count, and its rows a page at a time. */
interface Table {
  readonly header: string[];
  readonly total: number;
  readonly asOf: Date | null;
  readonly pages: () => AsyncGenerator<CsvValue[][]>;
}

/** Rows per query (keyset pages) and per write. */
export const EXPORT_PAGE = 1000;

/** Keyset pages of a source until a short one. */
async function* keysetPages<T>(page: (after: T | undefined) => Promise<T[]>): AsyncGenerator<T[]> {
  let after: T | undefined;
  for (;;) {
    const rows = await page(after);
    if (rows.length > 0) yield rows;
    if (rows.length < EXPORT_PAGE) return;
    after = rows[rows.length - 1];
  }
}

async function* onePage(rows: CsvValue[][]): AsyncGenerator<CsvValue[][]> {
  await Promise.resolve();
  yield rows;
}

async function table(
  tx: TenantTransaction,
  deps: ReadModelDeps,
  report: ExportableReport,
  parameters: Record<string, unknown>,
): Promise<Table> {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  switch (report) {
    case 'usage': {
      const check = reportRange(
        new Date(String(parameters.from)),
        new Date(String(parameters.to)),
        (parameters.granularity as Granularity | undefined) ?? 'day',
      );
      if (!check.ok) throw new ExportRefusedError(check.reason);
      const rows = await deps.usage.rows(tx, check.range);
      const { buckets } = usageReport(check.range, rows);
      return {
        total: buckets.length,
        asOf: (await deps.freshness.of(tx, 'usage')).asOf,
        header: [
          'start',
          'calls',
          'server_errors',
          'client_errors',
          'p50_ms',
          'p95_ms',
          'p99_ms',
          'max_ms',
          'mean_ms',
        ],
        pages: () =>
          onePage(
            buckets.map((b) => [
              b.start,
              b.calls,
              b.serverErrors,
              b.clientErrors,
              b.latencyMs.p50,
              b.latencyMs.p95,
              b.latencyMs.p99,
              b.latencyMs.max,
              b.latencyMs.mean,
            ]),
          ),
      };
    }
    case 'members': {
      const totals = await deps.members.totals(tx);
      return {
        total: totals.active + totals.removed,
        asOf: (await deps.freshness.of(tx, 'members')).asOf,
        header: ['user_id', 'email', 'display_name', 'roles', 'active', 'joined_at', 'removed_at'],
        pages: async function* () {
          const pages = keysetPages((after: { userId: string } | undefined) =>
            deps.members.page(tx, {
              status: 'all',
              limit: EXPORT_PAGE,
              ...(after ? { afterUserId: after.userId } : {}),
            }),
          );
          for await (const members of pages) {
            yield members.map((m) => [
              m.userId,
              m.email,
              m.displayName,
              m.roles.join(' '),
              m.active,
              iso(m.joinedAt),
              iso(m.removedAt),
            ]);
          }
        },
      };
    }
    case 'activity': {
      return {
        total: await deps.activity.count(tx),
        asOf: (await deps.freshness.of(tx, 'activity')).asOf,
        header: ['at', 'action', 'actor_type', 'actor_id', 'subject', 'summary'],
        pages: async function* () {
          const pages = keysetPages((after: { at: Date; eventId: string } | undefined) =>
            deps.activity.page(tx, { limit: EXPORT_PAGE, ...(after ? { before: after } : {}) }),
          );
          for await (const entries of pages) {
            yield entries.map((a) => [
              a.at.toISOString(),
              a.action,
              a.actorType,
              a.actorId,
              a.subject,
              a.summary,
            ]);
          }
        },
      };
    }
    case 'billing': {
      const revenue = await deps.billing.revenue(tx);
      return {
        total: revenue.length,
        asOf: (await deps.freshness.of(tx, 'billing')).asOf,
        header: [
          'period',
          'currency',
          'invoiced_minor',
          'credited_minor',
          'net_minor',
          'collected_minor',
        ],
        pages: () =>
          onePage(
            revenue.map((r) => [
              r.period,
              r.currency,
              r.invoicedMinor.toString(),
              r.creditedMinor.toString(),
              (r.invoicedMinor - r.creditedMinor).toString(),
              r.collectedMinor.toString(),
            ]),
          ),
      };
    }
  }
}

/**
 * Writes one export's file to `sink`, a page at a time, from the same read models the report
 * routes answer from; more than `maxRows` rows is refused before anything is written (and while
 * writing, should the report grow meanwhile).
 */
export async function buildExport(
  tx: TenantTransaction,
  deps: ReadModelDeps,
  request: {
    report: ExportableReport;
    format: ExportFormat;
    parameters: Record<string, unknown>;
    maxRows: number;
  },
  sink: ExportSink,
): Promise<BuiltExport> {
  const t = await table(tx, deps, request.report, request.parameters);
  const tooMany = () =>
    new ExportRefusedError(`More than ${request.maxRows} rows; narrow the export.`);
  if (t.total > request.maxRows) throw tooMany();
  // About 20 progress reports for a large export, at most one per page: bounded, never per row.
  const step = Math.max(EXPORT_PAGE, Math.ceil(t.total / 20));
  const csv = request.format === 'csv';
  await sink.write(
    csv
      ? csvRecord(t.header)
      : `{"report":${JSON.stringify(request.report)},"asOf":${JSON.stringify(t.asOf?.toISOString() ?? null)},"rows":[`,
  );
  let written = 0;
  let reported = 0;
  for await (const rows of t.pages()) {
    if (written + rows.length > request.maxRows) throw tooMany();
    const chunk = csv
      ? rows.map(csvRecord).join('')
      : rows
          .map(
            (row, i) =>
              (written + i > 0 ? ',' : '') +
              JSON.stringify(Object.fromEntries(t.header.map((h, j) => [h, row[j]]))),
          )
          .join('');
    await sink.write(chunk);
    written += rows.length;
    if (written - reported >= step) {
      reported = written;
      await sink.progress(written, Math.max(t.total, written));
    }
  }
  if (!csv) await sink.write(']}');
  await sink.progress(written, written);
  return {
    contentType: csv ? 'text/csv; charset=utf-8' : 'application/json',
    rows: written,
  };
}
