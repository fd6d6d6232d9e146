import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { SingleReplicaTask, withTenant } from '@tenantry/db';
import type { ExportFileStore } from '../persistence/export-file-store';
import type { ExportRepository } from '../persistence/export-repository';

const LOCK = 'tenantry.reporting.export-expiry';
const PAGE = 200;

export interface SweepResult {
  readonly leader: boolean;
  readonly expired: number;
}

/**
 * Deletes the files of exports past their expiry and marks them `expired`. One replica at a time
 * (`SingleReplicaTask`), since the files are shared; each export in its tenant's transaction,
 * with its row locked: the file goes first, then the row says so and leaves the schedule, so a
 * failure part-way leaves it due for the next pass, never a served link to a missing file.
 */
export class ExportExpirySweeper {
  private readonly task: SingleReplicaTask<SweepResult>;

  constructor(
    private readonly options: {
      readonly dataSource: DataSource;
      readonly exports: ExportRepository;
      readonly files: ExportFileStore;
      readonly logger: Logger;
      readonly intervalMs: number;
      /** Where "now" comes from (tests move it). */
      readonly now: () => Date;
    },
  ) {
    this.task = new SingleReplicaTask({
      dataSource: options.dataSource,
      lockName: LOCK,
      intervalMs: options.intervalMs,
      pass: () => this.pass(),
      notLeader: { leader: false, expired: 0 },
      onError: (error) => options.logger.warn('export expiry sweep failed', { err: error }),
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass (tests call it after moving the clock); overlapping calls share one pass. */
  tick(): Promise<SweepResult> {
    return this.task.tick();
  }

  private async pass(): Promise<SweepResult> {
    const { dataSource, exports, files, logger } = this.options;
    const now = this.options.now();
    let expired = 0;
    for (;;) {
      const due = await exports.dueExpiries(dataSource, now, PAGE);
      for (const { tenantId, exportId } of due) {
        await withTenant(dataSource, tenantId, async (tx) => {
          const e = await exports.find(tx, exportId, true);
          if (e?.status === 'done' && e.expiresAt && e.expiresAt <= now) {
            await files.remove(tenantId, exportId, e.format);
            expired += 1;
            logger.info('export expired', { tenant_id: tenantId, export_id: exportId });
          }
          // Also drops the schedule row of an export that is gone or no longer done.
          await exports.markExpired(tx, exportId, now);
        });
      }
      if (due.length < PAGE) return { leader: true, expired };
    }
  }
}
