import type { DataSource } from 'typeorm';
import type { ReportExportRequested } from '@tenantry/contracts';
import { ReportReadyEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { EventHandler, Outbox } from '@tenantry/events';
import { idempotentEventId } from '@tenantry/events';
import { ExportRefusedError, buildExport } from '../application/build-export/build-export';
import type { ExportSettings } from '../config';
import type { ExportFileStore } from '../persistence/export-file-store';
import type { ExportRepository } from '../persistence/export-repository';
import type { ReadModelDeps } from './read-model-deps';
import { TenantMismatchError } from './read-model-handler';

export interface ExportJobDeps {
  readonly dataSource: DataSource;
  readonly deps: ReadModelDeps;
  readonly exports: ExportRepository;
  readonly files: ExportFileStore;
  readonly outbox: Outbox;
  readonly settings: ExportSettings;
  readonly now: () => Date;
}

/**
 * Builds one export from the read models (read in the job's inbox transaction) into the file
 * store, then marks it `done` and writes `reporting.report.ready` in that transaction. `running`
 * and the progress are committed on their own meanwhile, so a client polling the export sees
 * them; the export row is locked only at the end, so those updates never wait on the inbox
 * transaction. A job run twice (redelivered, or enqueued again) finds the export finished and
 * does nothing; an export that cannot be built as asked fails with its reason instead of being
 * retried. The file is written under a temporary name and renamed, so a reader never sees half.
 */
export function exportJobHandler(job: ExportJobDeps): EventHandler<ReportExportRequested> {
  const finished = (status: string) => status !== 'queued' && status !== 'running';
  return async (event, tx) => {
    const { data } = event;
    if (data.tenantId !== event.tenantid) {
      throw new TenantMismatchError(event.type, data.tenantId, event.tenantid);
    }
    if (!(await job.deps.tenants.admit(tx))) return;
    const before = await job.exports.find(tx, data.exportId);
    if (!before || finished(before.status)) return;
    const own = <T>(work: Parameters<typeof withTenant<T>>[2]) =>
      withTenant(job.dataSource, tx.tenantId, work);
    await own((t) => job.exports.markRunning(t, data.exportId, job.now()));
    const writer = await job.files.create(tx.tenantId, before.id, before.format);
    let built;
    try {
      built = await buildExport(
        tx,
        job.deps,
        {
          report: before.report,
          format: before.format,
          parameters: before.parameters,
          maxRows: job.settings.maxRows,
        },
        {
          write: (chunk) => writer.write(chunk),
          progress: (written, total) =>
            own((t) => job.exports.progress(t, before.id, written, total)),
        },
      );
    } catch (error) {
      await writer.abort();
      if (!(error instanceof ExportRefusedError)) throw error;
      await job.exports.fail(tx, before.id, error.message, job.now());
      return;
    }
    const current = await job.exports.find(tx, data.exportId, true);
    if (!current || finished(current.status)) {
      await writer.abort();
      return;
    }
    const sizeBytes = await writer.finish();
    const at = job.now();
    const expiresAt = new Date(at.getTime() + job.settings.retentionSeconds * 1000);
    await job.exports.complete(tx, current.id, { ...built, sizeBytes, at, expiresAt });
    await job.outbox.publish(tx, ReportReadyEvent, {
      // One ready event per export, however often the job runs.
      id: idempotentEventId(
        { idempotencyKey: data.idempotencyKey, eventType: ReportReadyEvent.type },
        { tenantId: tx.tenantId, actor: { type: 'service', id: 'reporting-exports' } },
      ),
      subject: current.id,
      data: {
        tenantId: tx.tenantId,
        exportId: current.id,
        report: current.report,
        format: current.format,
        rows: built.rows,
        sizeBytes,
        readyAt: at.toISOString(),
        expiresAt: expiresAt.toISOString(),
      },
    });
  };
}
