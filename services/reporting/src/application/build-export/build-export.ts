import type { ExportFormat, ExportableReport } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import type { CsvValue } from '../../domain/csv';
import { toCsv } from '../../domain/csv';
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

export interface ExportFile {
  readonly content: Buffer;
  readonly contentType: string;
  readonly rows: number;
}

interface Table {
  readonly header: string[];
  readonly rows: CsvValue[][];
  readonly asOf: Date | null;
}

const PAGE = 500;

/** Whole pages of a keyset-paged source, refusing more than `maxRows`. */
async function allPages<T>(
  maxRows: number,
  page: (after: T | undefined) => Promise<T[]>,
): Promise<T[]> {
  const all: T[] = [];
  let after: T | undefined;
  for (;;) {
    const rows = await page(after);
    all.push(...rows);
    if (all.length > maxRows) {
      throw new ExportRefusedError(`More than ${maxRows} rows; narrow the export.`);
    }
    if (rows.length < PAGE) return all;
    after = rows[rows.length - 1];
  }
}

async function table(
  tx: TenantTransaction,
  deps: ReadModelDeps,
  report: ExportableReport,
  parameters: Record<string, unknown>,
  maxRows: number,
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
        rows: buckets.map((b) => [
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
      };
    }
    case 'members': {
      const members = await allPages(maxRows, (after: { userId: string } | undefined) =>
        deps.members.page(tx, {
          status: 'all',
          limit: PAGE,
          ...(after ? { afterUserId: after.userId } : {}),
        }),
      );
      return {
        asOf: (await deps.freshness.of(tx, 'members')).asOf,
        header: ['user_id', 'email', 'display_name', 'roles', 'active', 'joined_at', 'removed_at'],
        rows: members.map((m) => [
          m.userId,
          m.email,
          m.displayName,
          m.roles.join(' '),
          m.active,
          iso(m.joinedAt),
          iso(m.removedAt),
        ]),
      };
    }
    case 'activity': {
      const entries = await allPages(maxRows, (after: { at: Date; eventId: string } | undefined) =>
        deps.activity.page(tx, { limit: PAGE, ...(after ? { before: after } : {}) }),
      );
      return {
        asOf: (await deps.freshness.of(tx, 'activity')).asOf,
        header: ['at', 'action', 'actor_type', 'actor_id', 'subject', 'summary'],
        rows: entries.map((a) => [
          a.at.toISOString(),
          a.action,
          a.actorType,
          a.actorId,
          a.subject,
          a.summary,
        ]),
      };
    }
    case 'billing': {
      const revenue = await deps.billing.revenue(tx);
      return {
        asOf: (await deps.freshness.of(tx, 'billing')).asOf,
        header: [
          'period',
          'currency',
          'invoiced_minor',
          'credited_minor',
          'net_minor',
          'collected_minor',
        ],
        rows: revenue.map((r) => [
          r.period,
          r.currency,
          r.invoicedMinor.toString(),
          r.creditedMinor.toString(),
          (r.invoicedMinor - r.creditedMinor).toString(),
          r.collectedMinor.toString(),
        ]),
      };
    }
  }
}

/** The file of one export, from the same read models the report routes answer from. */
export async function buildExport(
  tx: TenantTransaction,
  deps: ReadModelDeps,
  request: {
    report: ExportableReport;
    format: ExportFormat;
    parameters: Record<string, unknown>;
    maxRows: number;
  },
): Promise<ExportFile> {
  const t = await table(tx, deps, request.report, request.parameters, request.maxRows);
  if (t.rows.length > request.maxRows) {
    throw new ExportRefusedError(`More than ${request.maxRows} rows; narrow the export.`);
  }
  if (request.format === 'csv') {
    return {
      content: Buffer.from(toCsv(t.header, t.rows), 'utf8'),
      contentType: 'text/csv; charset=utf-8',
      rows: t.rows.length,
    };
  }
  const rows = t.rows.map((row) => Object.fromEntries(t.header.map((h, i) => [h, row[i]])));
  return {
    content: Buffer.from(
      JSON.stringify({ report: request.report, asOf: t.asOf?.toISOString() ?? null, rows }),
      'utf8',
    ),
    contentType: 'application/json',
    rows: rows.length,
  };
}
