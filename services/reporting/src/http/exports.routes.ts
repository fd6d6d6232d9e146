import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { ReportExportRequestedJob, reportExportIdempotencyKey } from '@tenantry/contracts';
import type { Outbox } from '@tenantry/events';
import { DuplicateEventError, idempotentEventId } from '@tenantry/events';
import type { ApiRoutes } from '@tenantry/http';
import { HttpProblem, conflict, forbidden, notFound } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import type { ExportSettings } from '../config';
import { checkDownload, signDownload } from '../domain/download-link';
import { reportRange } from '../domain/report-range';
import type { ExportFileStore } from '../persistence/export-file-store';
import type { ExportRepository, ReportExport } from '../persistence/export-repository';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { instant, iso, problemResponses } from './schemas';

export interface ExportRouteDeps extends RouteDeps {
  readonly exports: ExportRepository;
  readonly files: ExportFileStore;
  readonly outbox: Outbox;
  readonly settings: ExportSettings;
  readonly now: () => Date;
}

const exportBody = z
  .strictObject({
    report: z.enum(['usage', 'members', 'activity', 'billing']),
    format: z.enum(['csv', 'json']).default('csv'),
    from: instant.optional(),
    to: instant.optional(),
    granularity: z.enum(['hour', 'day']).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.report !== 'usage') {
      for (const field of ['from', 'to', 'granularity'] as const) {
        if (body[field] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: 'Only usage exports take a range.',
          });
        }
      }
      return;
    }
    if (body.from === undefined || body.to === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'A usage export needs from and to.',
      });
      return;
    }
    const check = reportRange(new Date(body.from), new Date(body.to), body.granularity ?? 'day');
    if (!check.ok) ctx.addIssue({ code: 'custom', path: ['to'], message: check.reason });
  });

const exportSchema = z.object({
  id: z.string(),
  report: z.string(),
  format: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  status: z.enum(['queued', 'running', 'done', 'failed', 'expired']),
  /** Percent of the rows written: moves while running, 100 once finished. */
  progress: z.number(),
  /** Rows written so far, of `rowsTotal` (null until the job counted them). */
  rowsWritten: z.number(),
  rowsTotal: z.number().nullable(),
  rows: z.number().nullable(),
  sizeBytes: z.number().nullable(),
  error: z.string().nullable(),
  requestedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  /** When the file was deleted (`expired`). */
  expiredAt: z.string().nullable(),
  download: z.object({ url: z.string(), expiresAt: z.string() }).nullable(),
});

const exportParams = z.strictObject({ exportId: z.uuid() });

function progressOf(e: ReportExport): number {
  if (e.status === 'queued') return 0;
  if (e.status !== 'running') return 100;
  if (!e.rowsTotal) return 0;
  // Never 100 before the file is done.
  return Math.min(99, Math.floor((e.rowsWritten * 100) / e.rowsTotal));
}

const exportExpired = () =>
  new HttpProblem({
    status: 410,
    title: 'Export expired',
    slug: 'export-expired',
    detail: 'Its file was deleted; request the export again.',
  });

function view(e: ReportExport, download: { url: string; expiresAt: Date } | null) {
  return {
    id: e.id,
    report: e.report,
    format: e.format,
    parameters: e.parameters,
    status: e.status,
    progress: progressOf(e),
    rowsWritten: e.rowsWritten,
    rowsTotal: e.rowsTotal,
    rows: e.rows,
    sizeBytes: e.sizeBytes,
    error: e.error,
    requestedAt: e.requestedAt.toISOString(),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    expiresAt: iso(e.expiresAt),
    expiredAt: iso(e.expiredAt),
    download: download ? { url: download.url, expiresAt: download.expiresAt.toISOString() } : null,
  };
}

/** Asynchronous exports: a job on `reporting.jobs`, its state, and a short-lived signed link. */
export function addExportRoutes(routes: ApiRoutes, d: ExportRouteDeps): void {
  const key = { secret: d.settings.signingSecret };
  const path = (id: string) => `/v1/reports/exports/${id}`;

  routes.add(
    {
      method: 'post',
      path: '/v1/reports/exports',
      summary: 'Export a report (CSV or JSON) in the background; poll the export for its link',
      tags: ['reports'],
      permission: 'reports:export',
      idempotency: 'optional',
      body: exportBody,
      responses: {
        202: { description: 'Queued; `Location` is the export', schema: exportSchema },
        409: { description: 'This Idempotency-Key’s export was already requested' },
        ...problemResponses,
      },
    },
    async ({ body, idempotencyKey }, _req, res) => {
      const { actor } = requireTenantContext();
      const { report, format, ...parameters } = body;
      const id = randomUUID();
      const requestedAt = d.now();
      const created = await inTenant(d, async (tx) => {
        const e = await d.exports.create(tx, {
          id,
          report,
          format,
          parameters,
          requestedBy: actor,
          requestedAt,
        });
        await d.outbox.publish(tx, ReportExportRequestedJob, {
          id: idempotentEventId({ idempotencyKey, eventType: ReportExportRequestedJob.type }),
          subject: id,
          data: {
            tenantId: tx.tenantId,
            exportId: id,
            report,
            format,
            parameters: JSON.stringify(parameters),
            requestedByType: actor.type,
            requestedById: actor.id,
            attempt: 1,
            idempotencyKey: reportExportIdempotencyKey(id),
            requestedAt: requestedAt.toISOString(),
          },
        });
        return e;
      }).catch((error: unknown) => {
        if (error instanceof DuplicateEventError) {
          throw conflict('This Idempotency-Key’s export was already requested.');
        }
        throw error;
      });
      res.status(202).location(path(id)).json(view(created, null));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/reports/exports/:exportId',
      summary: 'An export’s state, and a short-lived download link once it is done',
      tags: ['reports'],
      permission: 'reports:export',
      params: exportParams,
      responses: {
        200: { description: 'The export', schema: exportSchema },
        404: { description: 'No such export in this tenant' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      const e = await inTenant(d, (tx) => d.exports.find(tx, params.exportId));
      if (!e) throw notFound('No such export.');
      let download: { url: string; expiresAt: Date } | null = null;
      const now = d.now();
      if (e.status === 'done' && e.expiresAt && e.expiresAt > now) {
        const until = new Date(
          Math.min(now.getTime() + d.settings.linkTtlSeconds * 1000, e.expiresAt.getTime()),
        );
        const signed = signDownload(key, requireTenantContext().tenantId, e.id, until);
        download = {
          url: `${path(e.id)}/download?expires=${signed.expires}&signature=${signed.signature}`,
          expiresAt: new Date(signed.expires * 1000),
        };
      }
      res.json(view(e, download));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/reports/exports/:exportId/download',
      summary: 'The export’s file, through the signed link its state gave (this tenant only)',
      tags: ['reports'],
      permission: 'reports:export',
      params: exportParams,
      query: z.strictObject({
        expires: z.coerce.number().int().positive(),
        signature: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
      }),
      responses: {
        ...problemResponses,
        200: { description: 'text/csv or application/json, as an attachment' },
        403: { description: 'The link is not for this tenant and export' },
        404: { description: 'No such export in this tenant, or it is not done' },
        410: {
          description: 'The link expired (`link-expired`), or the export did (`export-expired`)',
        },
      },
    },
    async ({ params, query }, _req, res) => {
      const { tenantId } = requireTenantContext();
      const check = checkDownload(
        key,
        { tenantId, exportId: params.exportId, expires: query.expires, signature: query.signature },
        d.now(),
      );
      if (check === 'invalid') throw forbidden('This link is not valid here.');
      if (check === 'expired') {
        throw new HttpProblem({
          status: 410,
          title: 'Link expired',
          slug: 'link-expired',
          detail: 'Ask the export for a new link.',
        });
      }
      const e = await inTenant(d, (tx) => d.exports.download(tx, params.exportId));
      if (!e || (e.status !== 'done' && e.status !== 'expired')) {
        throw notFound('No such export, or it is not done.');
      }
      if (e.status === 'expired' || !e.expiresAt || e.expiresAt <= d.now()) throw exportExpired();
      const name = `${e.report}-${params.exportId}.${e.format}`;
      const reply = () =>
        res
          .status(200)
          .type(e.contentType ?? 'application/octet-stream')
          .set('cache-control', 'private, no-store')
          .attachment(name);
      // Exports from before the file store kept their bytes in the row.
      if (e.legacyContent) {
        reply().send(e.legacyContent);
        return;
      }
      const file = await d.files.open(tenantId, params.exportId, e.format);
      if (!file) throw exportExpired();
      reply().set('content-length', String(file.sizeBytes));
      await pipeline(file.stream, res).catch(() => {
        // The client went away mid-file; nothing to answer.
        file.stream.destroy();
      });
    },
  );
}
