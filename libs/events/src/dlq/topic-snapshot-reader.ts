import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface SnapshotRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export interface SnapshotOptions {
  /** Bounds the whole read (metadata, group join, fetching): past it, it fails. */
  readonly deadline: Deadline;
  /** Called as records arrive: how many were read of how many the watermarks promised. */
  readonly onProgress?: (read: number, total: number) => void;
}

export interface TopicSnapshot {
  /** Records per topic, oldest first per partition; a missing topic maps to no records. */
  readonly records: ReadonlyMap<string, SnapshotRecord[]>;
  readonly missingTopics: readonly string[];
}

interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  /** Earliest offset still stored: older entries may have aged out or been deleted. */
  readonly low: bigint;
  /** End offset when the read started: records produced later are left for the next read. */
  readonly high: bigint;
}

/** One timeout for a whole multi-step operation; each step fails with a clear error past it. */
export class Deadline {
  private readonly at: number;

  constructor(readonly timeoutMs: number) {
    this.at = Date.now() + timeoutMs;
  }

  /** `work`, or an error saying what was still going on (`what` is read when it times out). */
  async race<T>(work: Promise<T>, what: string | (() => string)): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          const doing = typeof what === 'string' ? what : what();
          reject(new Error(`timed out after ${this.timeoutMs} ms ${doing}`));
        },
        Math.max(0, this.at - Date.now()),
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Connects a kafkajs client within the deadline. On a timeout the connect keeps going inside
 * kafkajs, so the client is disconnected once it settles: nothing is left holding the process.
 */
export async function connectBefore(
  client: { connect(): Promise<void>; disconnect(): Promise<void> },
  deadline: Deadline,
  what: string,
): Promise<void> {
  const connecting = client.connect();
  try {
    await deadline.race(connecting, what);
  } catch (error) {
    void connecting.then(
      () => client.disconnect().catch(() => undefined),
      () => undefined,
    );
    throw error;
  }
}

const partKey = (topic: string, partition: number): string => `${topic}/${partition}`;

async function partitionRanges(
  kafka: Kafka,
  topics: readonly string[],
  deadline: Deadline,
): Promise<{ ranges: PartitionRange[]; missing: string[] }> {
  const admin = kafka.admin();
  await connectBefore(admin, deadline, 'connecting to Kafka');
  try {
    const existing = new Set(await deadline.race(admin.listTopics(), 'listing topics'));
    const missing = topics.filter((topic) => !existing.has(topic));
    const ranges: PartitionRange[] = [];
    for (const topic of topics.filter((t) => existing.has(t))) {
      const offsets = await deadline.race(
        admin.fetchTopicOffsets(topic),
        `fetching the offsets of ${topic}`,
      );
      for (const o of offsets) {
        ranges.push({ topic, partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) });
      }
    }
    return { ranges, missing };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Reads every record the topics hold right now: per partition from its low watermark (not 0,
 * which may have aged out) up to the high watermark captured at the start, then stops. A
 * partition with nothing stored is not waited for, and the whole read is bounded by a timeout.
 */
export async function readTopicSnapshot(
  kafka: Kafka,
  topics: readonly string[],
  options: SnapshotOptions,
): Promise<TopicSnapshot> {
  const { deadline } = options;
  const { ranges, missing } = await partitionRanges(kafka, topics, deadline);
  const records = new Map<string, SnapshotRecord[]>(topics.map((topic) => [topic, []]));
  const pending = new Map(
    ranges.filter((r) => r.low < r.high).map((r) => [partKey(r.topic, r.partition), r]),
  );
  const total = [...pending.values()].reduce((sum, r) => sum + Number(r.high - r.low), 0);
  options.onProgress?.(0, total);
  if (pending.size === 0) return { records, missingTopics: missing };

  const reached = new Map<string, bigint>();
  let read = 0;
  const groupId = `dlq-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, retry: { retries: 3 } });
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // Offsets can have gaps (compaction, control records): a partition is done once the consumer
  // has moved past the captured end, whether or not a record sat at `high - 1`.
  const advance = (topic: string, partition: number, lastOffset: string): void => {
    const key = partKey(topic, partition);
    const range = pending.get(key);
    if (!range) return;
    reached.set(key, BigInt(lastOffset) + 1n);
    if (BigInt(lastOffset) + 1n >= range.high) pending.delete(key);
    if (pending.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
    advance(payload.topic, payload.partition, payload.lastOffset),
  );
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  try {
    await connectBefore(consumer, deadline, 'connecting the DLQ reader');
    await deadline.race(
      consumer.subscribe({
        topics: [...new Set([...pending.values()].map((r) => r.topic))],
        fromBeginning: true,
      }),
      'subscribing the DLQ reader',
    );
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const range = pending.get(partKey(topic, partition));
        if (range && BigInt(message.offset) < range.high) {
          records.get(topic)?.push({ topic, partition, message });
          read += 1;
          options.onProgress?.(read, total);
        }
        advance(topic, partition, message.offset);
      },
    });
    await deadline.race(done, () => {
      const short = [...pending.values()].map(
        (r) =>
          `${r.topic}[${r.partition}] at ${reached.get(partKey(r.topic, r.partition)) ?? r.low} of ${r.high}`,
      );
      return `reading ${topics.join(', ')}: ${short.join(', ')} not read to the end`;
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await deleteGroup(kafka, groupId);
  }
  for (const list of records.values()) {
    list.sort(
      (a, b) =>
        a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)),
    );
  }
  return { records, missingTopics: missing };
}

/** The reader's group is throwaway: leave no trace of it on the cluster (best effort). */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  const deadline = new Deadline(5_000);
  try {
    await connectBefore(admin, deadline, 'connecting');
    await deadline.race(admin.deleteGroups([groupId]), 'deleting the reader group');
  } catch {
    // A leftover empty group expires on its own.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
