import type { Kafka, Message } from 'kafkajs';
import type { Deadline, SnapshotRecord } from './topic-snapshot-reader';
import { connectBefore } from './topic-snapshot-reader';

/**
 * Which DLQ entries were replayed already lives in Kafka itself, next to the DLQ, so replay needs
 * no database: a compacted `<topic>.dlq.replayed` topic with one record per replayed entry, keyed
 * by the entry id. Replay reads it first and skips what it lists; compaction keeps one record per
 * key for as long as the topic exists. A tombstone (null value) for an id un-marks it.
 */
export function replayMarksTopicOf(dlqTopic: string): string {
  return `${dlqTopic}.replayed`;
}

/** Header on a replayed message naming the DLQ entry it came from (`<dlq topic>/<p>/<offset>`). */
export const REPLAYED_FROM_HEADER = 'x-dlq-replayed-from';

/** Header on a replayed message naming the audit record of its replay, when it has one. */
export const REPLAY_AUDIT_HEADER = 'x-dlq-replay-audit-id';

/**
 * A DLQ entry's id: its event id plus where it sits in the DLQ. The event id alone is not enough
 * (an event replayed and failing again is a new entry to replay); the position alone would
 * wrongly match a recreated DLQ topic whose offsets started over.
 */
export function deadLetterEntryId(eventId: string | undefined, partition: number, offset: string) {
  return `${eventId ?? '-'}@${partition}:${offset}`;
}

/** The ids a marks topic lists, later records winning (as compaction would keep them). */
export function replayedEntryIds(marks: readonly SnapshotRecord[]): Set<string> {
  const ids = new Set<string>();
  for (const { message } of marks) {
    const id = message.key?.toString('utf8');
    if (!id) continue;
    if (message.value === null) ids.delete(id);
    else ids.add(id);
  }
  return ids;
}

export interface ReplayMark {
  readonly entryId: string;
  readonly eventId?: string;
  readonly replayedTo: string;
  /** The audit record of the replay (identity's `dlq.replay-started` rows), when recorded. */
  readonly auditId?: string;
  /** Who replayed it, e.g. `operator:<id>`, when known. */
  readonly replayedBy?: string;
}

export function replayMarkMessage(mark: ReplayMark, now = new Date()): Message {
  return {
    key: mark.entryId,
    value: JSON.stringify({ ...mark, replayedAt: now.toISOString() }),
  };
}

/** Creates the compacted marks topic unless it exists (several replays may race to do it). */
export async function ensureReplayMarksTopic(
  kafka: Kafka,
  topic: string,
  deadline: Deadline,
): Promise<void> {
  const admin = kafka.admin();
  await connectBefore(admin, deadline, 'connecting to Kafka');
  try {
    if ((await deadline.race(admin.listTopics(), 'listing topics')).includes(topic)) return;
    await deadline.race(
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      }),
      `creating ${topic}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
