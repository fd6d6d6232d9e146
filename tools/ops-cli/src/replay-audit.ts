import type { DeadLetterEntry, ReplayAudit, ReplayFilter } from '@tenantry/events';
import type { PlatformClient } from './platform-client';

/** Identity's answer to `POST /v1/platform/dlq-replays`. */
export interface RecordedReplay {
  readonly auditId: string;
  readonly operatorId: string;
  readonly recordedAt: string;
  readonly count: number;
  readonly tenants: { tenantId: string; count: number }[];
}

export const DLQ_REPLAYS_PATH = '/v1/platform/dlq-replays';

/** The request body: the topic, the filter as the operator gave it, the entries of one chunk. */
export function replayRecordBody(
  topic: string,
  filter: ReplayFilter,
  entries: readonly DeadLetterEntry[],
) {
  return {
    topic,
    filter: {
      ...(filter.eventIds ? { eventIds: [...filter.eventIds] } : {}),
      ...(filter.tenantIds ? { tenantIds: [...filter.tenantIds] } : {}),
      ...(filter.eventTypes ? { eventTypes: [...filter.eventTypes] } : {}),
      ...(filter.since ? { since: filter.since.toISOString() } : {}),
      ...(filter.until ? { until: filter.until.toISOString() } : {}),
      ...(filter.includeReplayed ? { includeReplayed: true } : {}),
    },
    entries: entries.map((entry) => ({
      entryId: entry.id,
      ...(entry.eventId ? { eventId: entry.eventId } : {}),
      ...(entry.eventType ? { eventType: entry.eventType } : {}),
      ...(entry.tenantId ? { tenantId: entry.tenantId } : {}),
    })),
  };
}

/**
 * The replayer's `record` step: before each chunk is re-produced, identity records it in its
 * audit log with the operator as actor (through the gateway, the operator's token). A chunk it
 * does not record (4xx/5xx, no answer) is not replayed; `recorded` keeps what it did record.
 */
export function replayRecorder(client: PlatformClient, topic: string, filter: ReplayFilter) {
  const recorded: RecordedReplay[] = [];
  const state = { failed: false };
  return {
    recorded,
    /** Whether a record was refused or unanswered (and the replay stopped there). */
    get failed(): boolean {
      return state.failed;
    },
    record: async (entries: readonly DeadLetterEntry[]): Promise<ReplayAudit> => {
      let answer: RecordedReplay;
      try {
        answer = await client.call<RecordedReplay>(
          'POST',
          DLQ_REPLAYS_PATH,
          replayRecordBody(topic, filter, entries),
        );
      } catch (error) {
        state.failed = true;
        throw error;
      }
      recorded.push(answer);
      return { auditId: answer.auditId, actor: `operator:${answer.operatorId}` };
    },
  };
}

/** What stderr says when a replay stopped because identity did not record a chunk. */
export function unrecordedReplayMessage(topic: string, recorded: readonly RecordedReplay[]) {
  if (recorded.length === 0) {
    return `dlq replay ${topic}: nothing replayed: identity did not record the replay (every replay is audited first)`;
  }
  const count = recorded.reduce((sum, r) => sum + r.count, 0);
  return (
    `dlq replay ${topic}: stopped after ${count} entr${count === 1 ? 'y' : 'ies'} ` +
    `(audit ${recorded.map((r) => r.auditId).join(', ')}): identity did not record the next ones, so they were not replayed`
  );
}
