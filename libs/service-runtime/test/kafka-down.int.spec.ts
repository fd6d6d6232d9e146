import { randomBytes, randomUUID } from 'node:crypto';
import { createKafkaClient } from '@tenantry/events';
import type { TestDatabase } from '@tenantry/testing';
import { PrivateKafka, createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { RuntimeHandle } from '../src';
import type { NotesParts } from './support/notes-service';
import { catalogue, startNotesService } from './support/notes-service';

async function gauge(service: RuntimeHandle, name: string): Promise<number> {
  const metric = await service.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

/** Crashes of one inbox consumer's kafkajs consumer, whoever restarted it. */
async function crashes(service: RuntimeHandle, consumer: string): Promise<number> {
  const metric = await service.metrics.registry
    .getSingleMetric('inbox_consumer_crashes_total')
    ?.get();
  return (metric?.values ?? [])
    .filter((value) => value.labels.consumer === consumer)
    .reduce((sum, value) => sum + value.value, 0);
}

async function readiness(service: RuntimeHandle): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${service.port}/readyz`);
  return { status: response.status, body: await response.json() };
}

// Stops the broker, so it runs against a private one, not the suite's shared broker. One broker
// for both cases (each starting its own took 15-20 s): each case's services are stopped in its
// afterAll, before the next case stops the broker again.
const kafka = new PrivateKafka('runtimekafka', 23792);

beforeAll(async () => {
  await kafka.start();
});

afterAll(async () => {
  await kafka.stop();
});

describe('a service built with createService while Kafka is stopped', () => {
  const env = testStackEnv();
  let db: TestDatabase;
  let service: RuntimeHandle & NotesParts;
  let optedIn: RuntimeHandle & NotesParts;

  beforeAll(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, 'runtimekafka');
    const events = catalogue();
    service = await startNotesService(db, events, { kafkaBrokers: kafka.brokers });
    optedIn = await startNotesService(db, events, {
      kafkaBrokers: kafka.brokers,
      kafkaReadiness: true,
    });
  });

  afterAll(async () => {
    await kafka.start().catch(() => undefined);
    await Promise.all([service?.stop(), optedIn?.stop()]);
    await db?.drop();
  });

  it('stays ready and keeps accepting writes (ADR 0014); what was written is delivered once after Kafka is back', async () => {
    const tenantId = `t-${randomBytes(4).toString('hex')}`;
    await service.publish(tenantId, 'before');
    await waitFor('the first note handled', () =>
      service.durableSeen.length + optedIn.durableSeen.length === 1 ? true : undefined,
    );

    await kafka.stop();
    // The default: readiness is about this replica (its database), not the shared broker, so an
    // orchestrator does not pull every replica of every service out of the load balancer at once.
    expect(await readiness(service)).toMatchObject({ status: 200 });
    // Opted in: the broker's outage shows, with the check that failed named.
    const refused = await waitFor('the opted-in replica unready', async () => {
      const answer = await readiness(optedIn);
      return answer.status === 503 ? answer : undefined;
    });
    expect(JSON.stringify(refused.body)).toContain('kafka');

    // Writes are accepted into the outbox; the stuck backlog is visible in the gauges.
    for (const text of ['during-1', 'during-2', 'during-3']) await service.publish(tenantId, text);
    await waitFor(
      'the outbox age to grow',
      async () => ((await gauge(service, 'outbox_oldest_age_seconds')) >= 2 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(await service.relay.backlog()).toBe(3);

    await kafka.start();
    await waitFor(
      'every note handled once by the durable group',
      () => (service.durableSeen.length + optedIn.durableSeen.length >= 4 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const texts = [...service.durableSeen, ...optedIn.durableSeen].map((event) => event.data.text);
    expect(texts.sort()).toEqual(['before', 'during-1', 'during-2', 'during-3']);
    await waitFor('the opted-in replica ready again', async () =>
      (await readiness(optedIn)).status === 200 ? true : undefined,
    );
    expect(await service.relay.backlog()).toBe(0);
  });
});

// The services of the case above are stopped by now: the outage meets only this service.
describe('a service whose durable consumer reads ahead, while Kafka is stopped', () => {
  const env = testStackEnv();
  const events = catalogue();
  const group = `${events.domain}.notes-durable`;
  let db: TestDatabase;
  let service: RuntimeHandle & NotesParts;
  /** The note `before-1` stays in its handler (its inbox transaction open) until released. */
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    releaseHeld = resolve;
  });
  let heldEntered = false;

  beforeAll(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, 'runtimekafkaahead');
    service = await startNotesService(db, events, {
      kafkaBrokers: kafka.brokers,
      durable: { readAheadBytes: 1024 * 1024 },
      ledger: {
        beforeApply: async (event) => {
          if (event.data.text !== 'before-1') return;
          heldEntered = true;
          await held;
        },
      },
    });
  });

  afterAll(async () => {
    releaseHeld();
    await kafka.start().catch(() => undefined);
    await service?.stop();
    await db?.drop();
  });

  /** Partitions of the topic whose committed offset (of the group) is not the log end. */
  async function behindLogEnd(): Promise<string[]> {
    const admin = createKafkaClient({
      clientId: 'kafka-down-test',
      brokers: kafka.brokers,
    }).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(events.topic);
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [events.topic] });
      return ends.flatMap(({ partition, high }) => {
        const offset = committed?.partitions.find((p) => p.partition === partition)?.offset;
        // -1: nothing committed, which is the log end of a partition that holds nothing.
        const next = Math.max(0, Number(offset ?? -1));
        return next === Number(high) ? [] : [`partition ${partition} at ${next} of ${high}`];
      });
    } finally {
      await admin.disconnect();
    }
  }

  it('applies what it held or was applying when the broker stopped, and what was written meanwhile, once each, and commits to the log end', async () => {
    const tenantId = `t-${randomBytes(4).toString('hex')}`;
    const aggregate = randomUUID();
    await service.publish(tenantId, 'before-1', aggregate);
    await waitFor('before-1 being applied', () => heldEntered);
    // Fetched while before-1's round is open: held for the next round on its partition (the two
    // of its aggregate, at least), or applied at once on the other one.
    const before = ['before-2', 'before-3', 'before-4', 'before-5'];
    await service.publish(tenantId, 'before-2', aggregate);
    await service.publish(tenantId, 'before-3', aggregate);
    await service.publish(tenantId, 'before-4');
    await service.publish(tenantId, 'before-5');
    await waitFor('the notes before the outage in Kafka', async () =>
      (await service.relay.backlog()) === 0 ? true : undefined,
    );
    await waitFor('the notes before the outage fetched (by the per-instance group too)', () =>
      service.instanceSeen.length === 5 ? true : undefined,
    );

    await kafka.stop();
    const during = ['during-1', 'during-2', 'during-3'];
    for (const text of during) await service.publish(tenantId, text);
    expect(await service.relay.backlog()).toBe(3);
    // kafkajs gives up on the broker and restarts the consumer while before-1 is being applied
    // and the notes behind it are held: its windows stay until the group is joined again.
    await waitFor(
      'the read-ahead consumer to crash for want of a broker',
      async () => ((await crashes(service, group)) >= 1 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // before-1's transaction commits while the broker is down, and the held notes are applied
    // after it; none of their offsets can be committed.
    releaseHeld();
    await waitFor('every note before the outage applied while the broker is down', async () =>
      (await service.ledger(tenantId)).length === 1 + before.length ? true : undefined,
    );

    await kafka.start();
    const expected = ['before-1', ...before, ...during].sort();
    await waitFor(
      'every note applied by the read-ahead group',
      async () => ((await service.ledger(tenantId)).length >= expected.length ? true : undefined),
      // The crashed consumer's old member holds the group until its session times out (30 s).
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Committed to the end of every partition: the group has nothing left to fetch, so nothing
    // is skipped and nothing comes back to be applied again.
    await waitFor(
      'the group committed to the log end',
      async () => ((await behindLogEnd()).length === 0 ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 500 },
    );

    // Exactly once, in the handler's own table: one row per note, none missing.
    const ledger = await service.ledger(tenantId);
    expect(ledger.map((row) => row.text).sort()).toEqual(expected);
    expect(new Set(ledger.map((row) => row.note_id)).size).toBe(expected.length);
    expect(await service.relay.backlog()).toBe(0);
    // The per-instance group is back too (nothing of it is left restarting when the test stops).
    await waitFor('the per-instance group caught up', () =>
      service.instanceSeen.length === expected.length ? true : undefined,
    );
  });
});
