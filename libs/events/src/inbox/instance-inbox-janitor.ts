import type { DataSource } from 'typeorm';
import type { EventsLogger } from '../kafka/events-logger';
import { pruneInboxRows, schedulePruning } from './inbox-row-pruner';

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

/**
 * Inbox consumers named per instance (each replica must see every event, e.g. to drop a cache)
 * write their inbox rows under names no later instance reuses. An instance deletes its own rows
 * when it stops cleanly; rows of instances that died are pruned by whichever instance's janitor
 * runs next (idempotent, so instances may race).
 */
export class InstanceInboxJanitor {
  private stopTimer: (() => void) | undefined;

  constructor(private readonly options: InstanceInboxJanitorOptions) {}

  start(): void {
    this.stopTimer?.();
    this.stopTimer = schedulePruning(
      () => this.pruneOnce(),
      this.options.everyMs ?? 10 * 60_000,
      this.options.logger,
      { consumer_prefix: this.options.consumerPrefix },
    );
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  /** Deletes every instance's rows older than `keepMs` (default one hour). */
  async pruneOnce(): Promise<number> {
    return pruneInboxRows(
      this.options.dataSource,
      { consumerPrefix: this.options.consumerPrefix },
      this.options.keepMs ?? 60 * 60_000,
    );
  }

  /** Deletes this instance's rows (after its consumer stopped: no redelivery can come). */
  async forgetOwnRows(): Promise<number> {
    if (!this.options.consumerName) return 0;
    return pruneInboxRows(
      this.options.dataSource,
      { consumers: [this.options.consumerName] },
      null,
    );
  }
}
