import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { SingleReplicaLock, withTenant } from '@tenantry/db';
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
 * (`SingleReplicaLock`), since the files are shared; each export in its tenant's transaction,
 * with its row locked: the file goes first, then the row says so and leaves the schedule, so a
 * failure part-way leaves it due for the next pass, never a served link to a missing file.
 */
export class ExportExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private readonly lock: SingleReplicaLock;

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
    this.lock = new SingleReplicaLock(options.dataSource, LOCK);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.options.logger.warn('export expiry sweep failed', { err: error }),
      );
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.lock.release();
  }

  /** One pass (tests call it after moving the clock); overlapping calls share one pass. */
  tick(): Promise<SweepResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<SweepResult> {
    if (!(await this.lock.acquire())) return { leader: false, expired: 0 };
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
