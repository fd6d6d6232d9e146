import type { DataSource } from 'typeorm';
import type { EventsLogger } from '../kafka/events-logger';

export interface InstanceInboxJanitorOptions {
  readonly dataSource: DataSource;
  readonly logger: EventsLogger;
  /** Common start of every instance's consumer name, e.g. `gateway.policy-cache.`. */
  readonly consumerPrefix: string;
  /** This instance's consumer name: its rows are deleted when it stops cleanly. */
  readonly consumerName?: string;
  /** Rows older than this are only needed for a redelivery that can no longer happen. */
  readonly keepMs?: number;
  readonly everyMs?: number;
}

function rowCount(result: unknown): number {
  // A DELETE through TypeORM's query() on pg answers [rows, affected count].
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

/**
 * Inbox consumers named per instance (each replica must see every event, e.g. to drop a cache)
 * write their inbox rows under names no later instance reuses. An instance deletes its own rows
 * when it stops cleanly; rows of instances that died are pruned by whichever instance's janitor
 * runs next (idempotent, so instances may race).
 */
export class InstanceInboxJanitor {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: InstanceInboxJanitorOptions) {}

  start(): void {
    this.timer = setInterval(
      () => {
        this.pruneOnce().catch((error: unknown) =>
          this.options.logger.warn('pruning per-instance inbox rows failed', {
            err: error,
            consumer_prefix: this.options.consumerPrefix,
          }),
        );
      },
      this.options.everyMs ?? 10 * 60_000,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes every instance's rows older than `keepMs` (default one hour). */
  async pruneOnce(): Promise<number> {
    return rowCount(
      await this.options.dataSource.query(
        `DELETE FROM event_inbox
          WHERE starts_with(consumer, $1)
            AND processed_at < now() - ($2::text || ' milliseconds')::interval`,
        [this.options.consumerPrefix, String(this.options.keepMs ?? 60 * 60_000)],
      ),
    );
  }

  /** Deletes this instance's rows (after its consumer stopped: no redelivery can come). */
  async forgetOwnRows(): Promise<number> {
    if (!this.options.consumerName) return 0;
    return rowCount(
      await this.options.dataSource.query(`DELETE FROM event_inbox WHERE consumer = $1`, [
        this.options.consumerName,
      ]),
    );
  }
}
