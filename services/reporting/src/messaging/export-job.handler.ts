import type { DataSource } from 'typeorm';
import type { ReportExportRequested } from '@tenantry/contracts';
import { ReportReadyEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { EventHandler, Outbox } from '@tenantry/events';
import { idempotentEventId } from '@tenantry/events';
import { ExportRefusedError, buildExport } from '../application/build-export/build-export';
import type { ExportSettings } from '../config';
import type { ExportRepository } from '../persistence/export-repository';
import type { ReadModelDeps } from './read-model-deps';
import { TenantMismatchError } from './read-model-handler';

export interface ExportJobDeps {
  readonly dataSource: DataSource;
  readonly deps: ReadModelDeps;
  readonly exports: ExportRepository;
  readonly outbox: Outbox;
  readonly settings: ExportSettings;
  readonly now: () => Date;
}

/**
 * Builds one export from the read models, in the job's inbox transaction: the file, `done` and
 * `reporting.report.ready` commit together. A job run twice (redelivered, or enqueued again)
 * finds the export done and does nothing; an export that cannot be built as asked fails with its
 * reason instead of being retried.
 */
export function exportJobHandler(job: ExportJobDeps): EventHandler<ReportExportRequested> {
  return async (event, tx) => {
    const { data } = event;
    if (data.tenantId !== event.tenantid) {
      throw new TenantMismatchError(event.type, data.tenantId, event.tenantid);
    }
    if (!(await job.deps.tenants.admit(tx))) return;
    const before = await job.exports.find(tx, data.exportId);
    if (!before || before.status === 'done' || before.status === 'failed') return;
    // Its own short transaction, so a client polling the export sees it running.
    await withTenant(job.dataSource, tx.tenantId, (own) =>
      job.exports.markRunning(own, data.exportId, job.now()),
    );
    const current = await job.exports.find(tx, data.exportId, true);
    if (!current || current.status === 'done' || current.status === 'failed') return;
    let file;
    try {
      file = await buildExport(tx, job.deps, {
        report: current.report,
        format: current.format,
        parameters: current.parameters,
        maxRows: job.settings.maxRows,
      });
    } catch (error) {
      if (!(error instanceof ExportRefusedError)) throw error;
      await job.exports.fail(tx, current.id, error.message, job.now());
      return;
    }
    const at = job.now();
    const expiresAt = new Date(at.getTime() + job.settings.retentionSeconds * 1000);
    await job.exports.complete(tx, current.id, { ...file, at, expiresAt });
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
        rows: file.rows,
        sizeBytes: file.content.length,
        readyAt: at.toISOString(),
        expiresAt: expiresAt.toISOString(),
      },
    });
  };
}
