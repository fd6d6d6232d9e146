import type { IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import { headersToText } from '../envelope/event-envelope';
import { DLQ_HEADERS, DLQ_HEADER_PREFIX, dlqTopicOf } from '../inbox/dead-letter';
import type { DeadLetterFilter } from './dead-letter-filter';
import { matchesDeadLetterFilter } from './dead-letter-filter';
import {
  REPLAYED_FROM_HEADER,
  REPLAY_AUDIT_HEADER,
  deadLetterEntryId,
  ensureReplayMarksTopic,
  replayMarkMessage,
  replayMarksTopicOf,
  replayedEntryIds,
} from './replay-marks';
import type { SnapshotRecord } from './topic-snapshot-reader';
import { Deadline, connectBefore, readTopicSnapshot } from './topic-snapshot-reader';

// Part of the public API through this module (libs/events index exports it whole).
export type { DeadLetterFilter } from './dead-letter-filter';
export { replayMarksTopicOf } from './replay-marks';

export interface DeadLetterEntry {
  /** Stable id of this entry (event id + DLQ position); what replay marks. */
  readonly id: string;
  readonly partition: number;
  readonly offset: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly tenantId?: string;
  readonly consumer?: string;
  readonly reason?: string;
  readonly attempts?: number;
  /** When the consumer gave up on it (the DLQ record's own time if the header is missing). */
  readonly failedAt?: string;
  readonly originalTopic?: string;
  /** Whether an earlier replay re-produced it already. */
  readonly replayed: boolean;
}

export interface DeadLetterProgress {
  readonly phase: 'reading' | 'replaying';
  readonly done: number;
  readonly total: number;
}

export interface DeadLetterReplayerOptions {
  /** Bound on each list / replay call as a whole (default 60 s): it fails instead of hanging. */
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: DeadLetterProgress) => void;
}

/** Who performs a replay, as recorded before it runs (see `ReplayOptions.record`). */
export interface ReplayAudit {
  /** The id of the audit record; the chunk's replay marks and replayed messages carry it. */
  readonly auditId: string;
  /** The actor, e.g. `operator:<id>`; the marks carry it as `replayedBy`. */
  readonly actor: string;
}

export interface ReplayOptions {
  /**
   * Called with each chunk of entries (at most 100) before it is re-produced, to record the
   * replay in an audit log. A chunk whose record fails (the promise rejects) is not replayed, and
   * the replay stops there with that error: earlier chunks are replayed, marked and recorded.
   */
  readonly record?: (entries: readonly DeadLetterEntry[]) => Promise<ReplayAudit>;
}

export interface ReplayFilter extends DeadLetterFilter {
  /** Replay entries even if an earlier replay marked them. */
  readonly includeReplayed?: boolean;
}

export interface ReplayReport {
  /** Entries re-produced by this call. */
  readonly replayed: DeadLetterEntry[];
  /** Matching entries skipped because an earlier replay marked them. */
  readonly alreadyReplayed: DeadLetterEntry[];
  /** What `ReplayOptions.record` returned, one per chunk replayed, in order. */
  readonly audits: ReplayAudit[];
}

/** Messages per produce request, and so per progress step. */
const REPLAY_CHUNK = 100;

function describe({ partition, message }: SnapshotRecord, marked: Set<string>): DeadLetterEntry {
  const h = headersToText(message.headers);
  const id = deadLetterEntryId(h.ce_id, partition, message.offset);
  return {
    id,
    partition,
    offset: message.offset,
    eventId: h.ce_id,
    eventType: h.ce_type,
    tenantId: h.ce_tenantid,
    consumer: h[DLQ_HEADERS.consumer],
    reason: h[DLQ_HEADERS.reason],
    attempts: h[DLQ_HEADERS.attempts] ? Number(h[DLQ_HEADERS.attempts]) : undefined,
    failedAt: h[DLQ_HEADERS.failedAt] ?? new Date(Number(message.timestamp)).toISOString(),
    originalTopic: h[DLQ_HEADERS.originalTopic],
    replayed: marked.has(id),
  };
}

/** The original message as it was before it failed: envelope kept, DLQ headers dropped. */
function replayMessage(
  dlqTopic: string,
  partition: number,
  message: KafkaMessage,
  audit: ReplayAudit | undefined,
): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!name.startsWith(DLQ_HEADER_PREFIX) && value !== undefined) headers[name] = value;
  }
  headers[REPLAYED_FROM_HEADER] = `${dlqTopic}/${partition}/${message.offset}`;
  if (audit) headers[REPLAY_AUDIT_HEADER] = audit.auditId;
  return { key: message.key, value: message.value, headers };
}

/**
 * Lists and replays a topic's dead-letter entries. Replay re-produces each entry to its original
 * topic with its original envelope (same event id), so the consumer that failed processes it and
 * every consumer that already had it skips it in its inbox. Each replayed entry is then marked in
 * `<topic>.dlq.replayed` (see replay-marks.ts), and later replays skip it. A crash between the
 * re-produce and the mark replays it once more, which the inboxes make harmless.
 */
export class DeadLetterReplayer {
  private readonly timeoutMs: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: DeadLetterReplayerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Entries still in `<topic>.dlq` that match the filter, oldest first per partition. */
  async list(topic: string, filter: DeadLetterFilter = {}): Promise<DeadLetterEntry[]> {
    const { entries } = await this.read(topic, new Deadline(this.timeoutMs));
    return entries
      .map(({ entry }) => entry)
      .filter((entry) => matchesDeadLetterFilter(entry, filter));
  }

  /** Replays the matching entries not replayed before; returns those it replayed. */
  async replay(topic: string, filter: ReplayFilter = {}): Promise<DeadLetterEntry[]> {
    return (await this.replayWithReport(topic, filter)).replayed;
  }

  async replayWithReport(
    topic: string,
    filter: ReplayFilter = {},
    options: ReplayOptions = {},
  ): Promise<ReplayReport> {
    const deadline = new Deadline(this.timeoutMs);
    const { entries, dlqTopic } = await this.read(topic, deadline);
    const matching = entries.filter(({ entry }) => matchesDeadLetterFilter(entry, filter));
    const selected = matching.filter(({ entry }) => filter.includeReplayed || !entry.replayed);
    const alreadyReplayed = matching
      .filter(({ entry }) => !filter.includeReplayed && entry.replayed)
      .map(({ entry }) => entry);
    if (selected.length === 0) return { replayed: [], alreadyReplayed, audits: [] };
    const audits: ReplayAudit[] = [];

    const marksTopic = replayMarksTopicOf(dlqTopic);
    await ensureReplayMarksTopic(this.kafka, marksTopic, deadline);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await connectBefore(producer, deadline, 'connecting the replay producer');
    try {
      this.report('replaying', 0, selected.length);
      for (let start = 0; start < selected.length; start += REPLAY_CHUNK) {
        const chunk = selected.slice(start, start + REPLAY_CHUNK);
        // Recorded before anything of the chunk is produced: no unrecorded replay.
        const audit = options.record
          ? await deadline.race(
              options.record(chunk.map(({ entry }) => entry)),
              `recording the replay of ${chunk.length} entries`,
            )
          : undefined;
        if (audit) audits.push(audit);
        await deadline.race(
          producer.send({
            topic,
            acks: -1,
            messages: chunk.map(({ record }) =>
              replayMessage(dlqTopic, record.partition, record.message, audit),
            ),
          }),
          `replaying to ${topic} (${start} of ${selected.length} done)`,
        );
        // Marked only once the broker has the replayed copies: a mark never hides a lost entry.
        await deadline.race(
          producer.send({
            topic: marksTopic,
            acks: -1,
            messages: chunk.map(({ entry }) =>
              replayMarkMessage({
                entryId: entry.id,
                eventId: entry.eventId,
                replayedTo: topic,
                ...(audit ? { auditId: audit.auditId, replayedBy: audit.actor } : {}),
              }),
            ),
          }),
          `marking replayed entries in ${marksTopic}`,
        );
        this.report('replaying', start + chunk.length, selected.length);
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    return {
      replayed: selected.map(({ entry }) => ({ ...entry, replayed: true })),
      alreadyReplayed,
      audits,
    };
  }

  private report(phase: DeadLetterProgress['phase'], done: number, total: number): void {
    this.options.onProgress?.({ phase, done, total });
  }

  /** The DLQ's entries with their replay marks, read in one pass over both topics. */
  private async read(topic: string, deadline: Deadline) {
    const dlqTopic = dlqTopicOf(topic);
    const marksTopic = replayMarksTopicOf(dlqTopic);
    const snapshot = await readTopicSnapshot(this.kafka, [dlqTopic, marksTopic], {
      deadline,
      onProgress: (read, total) => this.report('reading', read, total),
    });
    if (snapshot.missingTopics.includes(dlqTopic)) {
      throw new Error(`topic ${dlqTopic} does not exist: is ${topic} provisioned with a DLQ?`);
    }
    const marked = replayedEntryIds(snapshot.records.get(marksTopic) ?? []);
    const entries = (snapshot.records.get(dlqTopic) ?? []).map((record) => ({
      record,
      entry: describe(record, marked),
    }));
    return { entries, dlqTopic };
  }
}
