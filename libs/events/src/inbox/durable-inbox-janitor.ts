import type { DataSource } from 'typeorm';
import type { EventsLogger } from '../kafka/events-logger';
import { pruneInboxRows, schedulePruning } from './inbox-row-pruner';

const DAY_MS = 24 * 60 * 60_000;

/** The provisioned topics' default retention (kafka/topic-provisioner.ts): seven days. */
export const DEFAULT_TOPIC_RETENTION_MS = 7 * DAY_MS;

export interface DurableInboxJanitorOptions {
  readonly dataSource: DataSource;
  readonly logger: EventsLogger;
  /** The durable consumers (fixed names, one group per service and purpose) to prune. */
  readonly consumers: readonly string[];
  /** Rows kept this long (default 14 days): longer than any redelivery the topic can make. */
  readonly keepMs?: number;
  /** Retention of the consumed topics; `keepMs` must exceed it (default seven days). */
  readonly topicRetentionMs?: number;
  readonly everyMs?: number;
}

/**
 * Prunes the inbox rows of durable consumers once no redelivery can bring their events back:
 * an event older than its topic's retention is gone from Kafka (a DLQ replay re-produces it
 * under the same id, so the DLQ's longer retention is what `topicRetentionMs` should name for
 * consumers whose DLQs are replayed). Idempotent, so every replica may run one.
 */
export class DurableInboxJanitor {
  private stopTimer: (() => void) | undefined;
  private readonly keepMs: number;

  constructor(private readonly options: DurableInboxJanitorOptions) {
    this.keepMs = options.keepMs ?? 14 * DAY_MS;
    const topicRetentionMs = options.topicRetentionMs ?? DEFAULT_TOPIC_RETENTION_MS;
    if (this.keepMs <= topicRetentionMs) {
      // A shorter inbox memory than the topic's would let a redelivered event apply twice.
      throw new Error(
        `inbox retention (${this.keepMs} ms) must be longer than the topic retention ` +
          `(${topicRetentionMs} ms)`,
      );
    }
  }

  start(): void {
    this.stopTimer?.();
    this.stopTimer = schedulePruning(
      () => this.pruneOnce(),
      this.options.everyMs ?? 60 * 60_000,
      this.options.logger,
      { consumers: this.options.consumers },
    );
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  /** Deletes the consumers' rows older than the retention; returns how many went. */
  async pruneOnce(): Promise<number> {
    return pruneInboxRows(
      this.options.dataSource,
      { consumers: this.options.consumers },
      this.keepMs,
    );
  }
}
