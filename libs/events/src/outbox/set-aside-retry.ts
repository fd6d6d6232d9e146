import type { DataSource } from 'typeorm';

/**
 * Puts set-aside outbox rows back in the relay's queue (after the cause was fixed, e.g. the
 * topic's max.message.bytes raised) and wakes the relay. They keep their seq, so they go out
 * before newer rows, but after the rows behind them that were already published: consumers see
 * them late (ADR 0009). Returns the ids that were set aside and are pending again.
 */
export async function retrySetAside(
  dataSource: DataSource,
  eventIds: readonly string[],
): Promise<string[]> {
  if (eventIds.length === 0) return [];
  // The migration's update trigger NOTIFYs the relay when these rows become pending again.
  const rows: { id: string }[] = await dataSource.query(
    // A CTE, because TypeORM returns an UPDATE ... RETURNING as [rows, count].
    `WITH retried AS (
         UPDATE event_outbox SET set_aside_at = NULL, refusals = 0
         WHERE id = ANY($1::text[]) AND set_aside_at IS NOT NULL AND published_at IS NULL
         RETURNING id
       )
       SELECT id FROM retried`,
    [eventIds],
  );
  return rows.map((row) => row.id);
}
