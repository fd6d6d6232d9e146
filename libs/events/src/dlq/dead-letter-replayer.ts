import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { headersToText } from '../envelope/event-envelope';
import { DLQ_HEADERS, DLQ_HEADER_PREFIX, dlqTopicOf } from '../inbox/dead-letter';

export interface DeadLetterEntry {
  readonly partition: number;
  readonly offset: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly tenantId?: string;
  readonly consumer?: string;
  readonly reason?: string;
  readonly attempts?: number;
  readonly failedAt?: string;
  readonly originalTopic?: string;
}

interface RawEntry {
  partition: number;
  message: KafkaMessage;
}

function describe({ partition, message }: RawEntry): DeadLetterEntry {
  const h = headersToText(message.headers);
  return {
    partition,
    offset: message.offset,
    eventId: h.ce_id,
    eventType: h.ce_type,
    tenantId: h.ce_tenantid,
    consumer: h[DLQ_HEADERS.consumer],
    reason: h[DLQ_HEADERS.reason],
    attempts: h[DLQ_HEADERS.attempts] ? Number(h[DLQ_HEADERS.attempts]) : undefined,
    failedAt: h[DLQ_HEADERS.failedAt],
    originalTopic: h[DLQ_HEADERS.originalTopic],
  };
}

/**
 * Lists and replays a topic's dead-letter entries. Replay re-produces each entry to its original
 * topic with its original envelope (same event id), so the consumer that failed processes it and
 * every consumer that already had it skips it in its inbox.
 */
export class DeadLetterReplayer {
  constructor(private readonly kafka: Kafka) {}

  /** Every entry still in `<topic>.dlq`, oldest first per partition. */
  async list(topic: string): Promise<DeadLetterEntry[]> {
    return (await this.readAll(dlqTopicOf(topic))).map(describe);
  }

  /**
   * Replays entries of `<topic>.dlq` (all, or those with the given event ids) and returns what
   * it replayed. An entry is replayed at most once per `replay` call; calling again with the same
   * ids replays them again, which the inboxes make harmless.
   */
  async replay(
    topic: string,
    filter: { eventIds?: readonly string[] } = {},
  ): Promise<DeadLetterEntry[]> {
    const entries = await this.readAll(dlqTopicOf(topic));
    const selected = entries.filter(
      (entry) => !filter.eventIds || filter.eventIds.includes(describe(entry).eventId ?? ''),
    );
    if (selected.length === 0) return [];
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({
        topic: topic,
        acks: -1,
        messages: selected.map(({ partition, message }) => {
          const headers: IHeaders = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (!name.startsWith(DLQ_HEADER_PREFIX) && value !== undefined) headers[name] = value;
          }
          headers['x-dlq-replayed-from'] = `${dlqTopicOf(topic)}/${partition}/${message.offset}`;
          return { key: message.key, value: message.value, headers };
        }),
      });
    } finally {
      await producer.disconnect();
    }
    return selected.map(describe);
  }

  /** Reads a topic from its start to its current end with a throwaway group. */
  private async readAll(topic: string): Promise<RawEntry[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
    const remaining = new Set(
      [...ends].filter(([partition, high]) => high > 0n && partition >= 0).map(([p]) => p),
    );
    const collected: RawEntry[] = [];
    if (remaining.size === 0) return collected;
    const groupId = `dlq-reader-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const high = ends.get(partition) ?? 0n;
              if (BigInt(message.offset) < high) collected.push({ partition, message });
              if (BigInt(message.offset) + 1n >= high) {
                remaining.delete(partition);
                if (remaining.size === 0) resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
      const admin2 = this.kafka.admin();
      await admin2.connect();
      await admin2.deleteGroups([groupId]).catch(() => undefined);
      await admin2.disconnect();
    }
    return collected.sort(
      (a, b) =>
        a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)),
    );
  }
}
