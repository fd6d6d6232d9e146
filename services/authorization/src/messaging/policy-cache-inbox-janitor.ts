import type { DataSource } from 'typeorm';
import type { EventsLogger } from '@tenantry/events';
import { returnedRows } from '../persistence/policy-repository';
import { policyCacheConsumerPrefix } from './authorization-consumers';

/**
 * The per-replica cache consumers go through the inbox like every consumer, so each replica
 * leaves one inbox row per policy event, under a name no later replica reuses. Their rows are
 * only needed while a redelivery can still happen; older ones are pruned here (by whichever
 * replica runs it; the delete is idempotent).
 */
export class PolicyCacheInboxJanitor {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: EventsLogger,
    private readonly groupPrefix: string,
    private readonly keepMs = 60 * 60 * 1000,
    private readonly everyMs = 10 * 60 * 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.pruneOnce().catch((error: unknown) =>
        this.logger.warn('pruning policy-cache inbox rows failed', { err: error }),
      );
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async pruneOnce(): Promise<number> {
    const rows = returnedRows(
      await this.dataSource.query(
        `DELETE FROM event_inbox WHERE starts_with(consumer, $1) AND processed_at < now() - ($2::text || ' milliseconds')::interval
       RETURNING event_id`,
        [policyCacheConsumerPrefix(this.groupPrefix), String(this.keepMs)],
      ),
    );
    return rows.length;
  }
}
