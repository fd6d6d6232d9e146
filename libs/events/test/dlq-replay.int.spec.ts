import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DeadLetterReplayer, createKafkaClient, dlqTopicOf, provisionTopics } from '../src';
import type { DeadLetterProgress } from '../src';
import { sendToDeadLetterTopic } from '../src/inbox/dead-letter';
import { Deadline, readTopicSnapshot } from '../src/dlq/topic-snapshot-reader';
import { testStackEnv } from '@tenantry/testing';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');

interface Failed {
  readonly eventId: string;
  readonly tenant: string;
  readonly type: string;
}

/** Dead-letters events exactly as the inbox does (same function, so the same headers). */
async function deadLetter(producer: Producer, topic: string, failures: readonly Failed[]) {
  for (const [index, failure] of failures.entries()) {
    const message: KafkaMessage = {
      key: Buffer.from(`${failure.tenant}:order-${index}`),
      value: Buffer.from(JSON.stringify({ n: index })),
      timestamp: String(Date.now()),
      attributes: 0,
      offset: String(index),
      headers: {
        ce_id: failure.eventId,
        ce_type: failure.type,
        ce_tenantid: failure.tenant,
        ce_source: 'test',
        ce_specversion: '1.0',
      },
    };
    await sendToDeadLetterTopic(producer, {
      topic,
      partition: 0,
      message,
      consumer: 'ledger',
      error: new Error(`handler refused ${failure.eventId}`),
      attempts: 3,
    });
  }
}

function failures(tenant: string, type: string, count: number): Failed[] {
  return Array.from({ length: count }, () => ({ eventId: randomUUID(), tenant, type }));
}

describe('DLQ list and replay', () => {
  const env = testStackEnv();
  let kafka: Kafka;
  let producer: Producer;
  const fresh = (): string => `dlqt${randomBytes(4).toString('hex')}.events`;

  beforeAll(async () => {
    kafka = createKafkaClient({ clientId: 'dlq-replay-test', brokers: env.kafkaBrokers });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  /** Every replayed copy that reached the original topic, by event id. */
  async function replayedCopies(topic: string): Promise<string[]> {
    const snapshot = await readTopicSnapshot(kafka, [topic], { deadline: new Deadline(20_000) });
    return (snapshot.records.get(topic) ?? [])
      .filter(({ message }) => message.headers?.['x-dlq-replayed-from'] !== undefined)
      .map(({ message }) => String(message.headers?.ce_id));
  }

  it('filters by tenant, event type and failure time; replays once, a second replay sends nothing', async () => {
    const topic = fresh();
    await provisionTopics(kafka, [{ name: topic, partitions: 2 }]);
    const early = [
      ...failures('acme', 'order.placed', 2),
      ...failures('globex', 'order.placed', 1),
    ];
    await deadLetter(producer, topic, early);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = [
      ...failures('acme', 'order.cancelled', 2),
      ...failures('globex', 'order.placed', 1),
    ];
    await deadLetter(producer, topic, late);
    const all = [...early, ...late];
    const idsOf = (list: readonly { eventId?: string }[]) =>
      list.map((entry) => entry.eventId as string).sort();
    const idsWhere = (keep: (failure: Failed) => boolean) =>
      all
        .filter(keep)
        .map((failure) => failure.eventId)
        .sort();

    const progress: DeadLetterProgress[] = [];
    const replayer = new DeadLetterReplayer(kafka, {
      timeoutMs: 30_000,
      onProgress: (p) => progress.push(p),
    });
    const everything = await replayer.list(topic);
    expect(idsOf(everything)).toEqual(idsWhere(() => true));
    expect(everything.every((entry) => !entry.replayed && entry.consumer === 'ledger')).toBe(true);
    expect(progress.at(-1)).toEqual({ phase: 'reading', done: 6, total: 6 });

    expect(idsOf(await replayer.list(topic, { tenantIds: ['acme'] }))).toEqual(
      idsWhere((f) => f.tenant === 'acme'),
    );
    expect(idsOf(await replayer.list(topic, { eventTypes: ['order.cancelled'] }))).toEqual(
      idsWhere((f) => f.type === 'order.cancelled'),
    );
    expect(idsOf(await replayer.list(topic, { since: between }))).toEqual(idsOf(late));
    expect(idsOf(await replayer.list(topic, { until: between }))).toEqual(idsOf(early));
    expect(
      idsOf(
        await replayer.list(topic, {
          tenantIds: ['globex'],
          eventTypes: ['order.placed'],
          since: between,
        }),
      ),
    ).toEqual(idsWhere((f) => f.tenant === 'globex' && late.includes(f)));

    // Replay acme's entries: once.
    const first = await replayer.replayWithReport(topic, { tenantIds: ['acme'] });
    expect(idsOf(first.replayed)).toEqual(idsWhere((f) => f.tenant === 'acme'));
    expect(progress.at(-1)).toEqual({ phase: 'replaying', done: 4, total: 4 });
    const second = await replayer.replayWithReport(topic, { tenantIds: ['acme'] });
    expect(second.replayed).toEqual([]);
    expect(idsOf(second.alreadyReplayed)).toEqual(idsWhere((f) => f.tenant === 'acme'));

    // Replaying everything now sends only what was not replayed yet.
    const rest = await replayer.replay(topic);
    expect(idsOf(rest)).toEqual(idsWhere((f) => f.tenant === 'globex'));
    expect(await replayer.replay(topic)).toEqual([]);
    expect((await replayer.list(topic)).every((entry) => entry.replayed)).toBe(true);
    expect((await replayedCopies(topic)).sort()).toEqual(idsWhere(() => true));
  });

  it('lists what is left when the oldest entries were deleted, instead of hanging', async () => {
    const topic = fresh();
    const dlq = dlqTopicOf(topic);
    await provisionTopics(kafka, [{ name: topic, partitions: 2 }]);
    const entries = failures('acme', 'order.placed', 8);
    await deadLetter(producer, topic, entries);
    const admin = kafka.admin();
    await admin.connect();
    let kept: string[];
    try {
      const offsets = await admin.fetchTopicOffsets(dlq);
      const [emptied, trimmed] = offsets.map((o) => ({ partition: o.partition, high: o.high }));
      expect(Number(emptied?.high) > 0 && Number(trimmed?.high) > 1).toBe(true);
      // One partition loses every entry (low = high), the other its first one.
      await admin.deleteTopicRecords({
        topic: dlq,
        partitions: [
          { partition: emptied!.partition, offset: emptied!.high },
          { partition: trimmed!.partition, offset: '1' },
        ],
      });
      const before = await new DeadLetterReplayer(kafka, { timeoutMs: 1 })
        .list(topic)
        .catch((error: Error) => error);
      expect(String(before)).toMatch(/timed out after 1 ms/);
      const left = await readTopicSnapshot(kafka, [dlq], { deadline: new Deadline(20_000) });
      kept = (left.records.get(dlq) ?? []).map(({ message }) => String(message.headers?.ce_id));
    } finally {
      await admin.disconnect();
    }
    const started = Date.now();
    const listed = await new DeadLetterReplayer(kafka, { timeoutMs: 20_000 }).list(topic);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(listed.map((entry) => entry.eventId).sort()).toEqual([...kept].sort());
    expect(listed.every((entry) => entry.offset !== '0')).toBe(true);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(entries.length - 1);
  });

  it('returns promptly on an empty DLQ, and fails clearly on a topic without one', async () => {
    const topic = fresh();
    await provisionTopics(kafka, [{ name: topic, partitions: 2 }]);
    const replayer = new DeadLetterReplayer(kafka, { timeoutMs: 10_000 });
    const started = Date.now();
    expect(await replayer.list(topic)).toEqual([]);
    expect(await replayer.replay(topic)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(replayer.list(fresh())).rejects.toThrow(/does not exist/);
  });

  it('records each chunk before producing it: marks and copies carry the audit id; a refused record replays nothing', async () => {
    const topic = fresh();
    const dlq = dlqTopicOf(topic);
    await provisionTopics(kafka, [{ name: topic, partitions: 1 }]);
    const entries = failures('acme', 'order.placed', 3);
    await deadLetter(producer, topic, entries);
    const replayer = new DeadLetterReplayer(kafka, { timeoutMs: 30_000 });

    const refused = await replayer
      .replayWithReport(topic, {}, { record: () => Promise.reject(new Error('identity said no')) })
      .catch((error: Error) => error);
    expect(String(refused)).toContain('identity said no');
    expect(await replayedCopies(topic)).toEqual([]);
    expect((await replayer.list(topic)).some((entry) => entry.replayed)).toBe(false);

    const recorded: string[][] = [];
    const report = await replayer.replayWithReport(
      topic,
      {},
      {
        record: async (chunk) => {
          // Nothing of the chunk is on the topic yet when it is recorded.
          expect(await replayedCopies(topic)).toEqual([]);
          recorded.push(chunk.map((entry) => entry.id));
          return { auditId: 'audit-1', actor: 'operator:op-1' };
        },
      },
    );
    expect(recorded).toEqual([report.replayed.map((entry) => entry.id)]);
    expect(report.audits).toEqual([{ auditId: 'audit-1', actor: 'operator:op-1' }]);
    const snapshot = await readTopicSnapshot(kafka, [topic, `${dlq}.replayed`], {
      deadline: new Deadline(20_000),
    });
    const copies = snapshot.records.get(topic) ?? [];
    expect(copies.map(({ message }) => String(message.headers?.['x-dlq-replay-audit-id']))).toEqual(
      ['audit-1', 'audit-1', 'audit-1'],
    );
    const marks = (snapshot.records.get(`${dlq}.replayed`) ?? []).map(({ message }) =>
      JSON.parse(String(message.value)),
    );
    expect(marks).toHaveLength(3);
    for (const mark of marks) {
      expect(mark).toMatchObject({
        auditId: 'audit-1',
        replayedBy: 'operator:op-1',
        replayedTo: topic,
      });
    }
  });

  it('the CLI filters, exits 0 on success, 1 on failure and 2 on bad usage', async () => {
    const topic = fresh();
    await provisionTopics(kafka, [{ name: topic, partitions: 1 }]);
    const wanted = failures('acme', 'order.placed', 1);
    await deadLetter(producer, topic, [...wanted, ...failures('globex', 'order.placed', 1)]);
    const cli = (args: string[]) =>
      run('npx', ['tsx', 'libs/events/src/cli/dlq-cli.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, KAFKA_BROKERS: env.kafkaBrokers.join(',') },
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const [listed, usage, missing] = await Promise.all([
      cli(['list', topic, '--tenant', 'acme', '--since', '2020-01-01T00:00:00Z']),
      cli(['list', topic, '--since', 'yesterday']),
      cli(['list', fresh(), '--timeout', '20']),
    ]);
    expect(listed.code).toBe(0);
    const result = JSON.parse(listed.stdout) as { count: number; entries: { eventId: string }[] };
    expect(result.entries.map((entry) => entry.eventId)).toEqual([wanted[0]?.eventId]);
    expect(listed.stderr).toContain('dlq: reading 2/2');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: dlq list');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });
});
