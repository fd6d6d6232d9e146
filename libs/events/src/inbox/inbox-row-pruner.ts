import type { DataSource } from 'typeorm';
import type { EventsLogger } from '../kafka/events-logger';

/** Which consumers' rows a pruning run may delete. */
export type InboxRowScope =
  { readonly consumerPrefix: string } | { readonly consumers: readonly string[] };

function rowCount(result: unknown): number {
  // A DELETE through TypeORM's query() on pg answers [rows, affected count].
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

/**
 * Deletes the scope's inbox rows older than `keepMs` (all of them when `keepMs` is null), at
 * most `batchSize` per statement so a large backlog never holds one long transaction; returns
 * how many went.
 */
export async function pruneInboxRows(
  dataSource: DataSource,
  scope: InboxRowScope,
  keepMs: number | null,
  batchSize = 10_000,
): Promise<number> {
  const byPrefix = 'consumerPrefix' in scope;
  const match = byPrefix ? `starts_with(consumer, $1)` : `consumer = ANY($1::text[])`;
  const param = byPrefix ? scope.consumerPrefix : [...scope.consumers];
  if (!byPrefix && scope.consumers.length === 0) return 0;
  let total = 0;
  for (;;) {
    const deleted = rowCount(
      await dataSource.query(
        `DELETE FROM event_inbox WHERE ctid IN (
           SELECT ctid FROM event_inbox
            WHERE ${match}
              AND ($2::text IS NULL OR processed_at < now() - ($2::text || ' milliseconds')::interval)
            LIMIT $3)`,
        [param, keepMs === null ? null : String(keepMs), batchSize],
      ),
    );
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Runs `prune` every `everyMs` (unref'd: it never keeps a process alive); returns the stopper. */
export function schedulePruning(
  prune: () => Promise<unknown>,
  everyMs: number,
  logger: EventsLogger,
  meta: Record<string, unknown>,
): () => void {
  const timer = setInterval(() => {
    prune().catch((error: unknown) =>
      logger.warn('pruning inbox rows failed', { err: error, ...meta }),
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
