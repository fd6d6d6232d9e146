import type { DataSource } from 'typeorm';
import type { EventsLogger } from '@tenantry/events';
import { POLICY_CACHE_CONSUMER_PREFIX } from './policy-cache-consumer';

export interface PolicyCacheInboxJanitorOptions {
  readonly dataSource: DataSource;
  readonly logger: EventsLogger;
  /** This replica's consumer name: its rows are deleted when it stops cleanly. */
  readonly consumerName: string;
  /** Rows older than this are only needed for a redelivery that can no longer happen. */
  readonly keepMs?: number;
  readonly everyMs?: number;
}

function rowCount(result: unknown): number {
  // pg's DELETE through TypeORM's query(): [rows, count].
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

/**
 * Each replica's policy-cache consumer writes its inbox rows under a name no later replica
 * reuses. A replica deletes its own rows when it stops cleanly; rows of replicas that died are
 * pruned by whichever replica's janitor runs next (idempotent, so replicas may race).
 */
export class PolicyCacheInboxJanitor {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PolicyCacheInboxJanitorOptions) {}

  start(): void {
    this.timer = setInterval(
      () => {
        this.pruneOnce().catch((error: unknown) =>
          this.options.logger.warn('pruning policy-cache inbox rows failed', { err: error }),
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

  /** Deletes every replica's rows older than `keepMs` (default one hour). */
  async pruneOnce(): Promise<number> {
    return rowCount(
      await this.options.dataSource.query(
        `DELETE FROM event_inbox
          WHERE starts_with(consumer, $1)
            AND processed_at < now() - ($2::text || ' milliseconds')::interval`,
        [POLICY_CACHE_CONSUMER_PREFIX, String(this.options.keepMs ?? 60 * 60_000)],
      ),
    );
  }

  /** Deletes this replica's rows (after its consumer stopped: no redelivery can come). */
  async forgetOwnRows(): Promise<number> {
    return rowCount(
      await this.options.dataSource.query(`DELETE FROM event_inbox WHERE consumer = $1`, [
        this.options.consumerName,
      ]),
    );
  }
}
