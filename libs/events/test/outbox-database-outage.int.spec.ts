import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { PrivatePostgres, waitFor } from '@tenantry/testing';
import { RelayTestBed } from './support/relay-test-bed';

// Kills the database under the relay, so it runs on a PostgreSQL of its own, not the suite's.
describe('the outbox relay when its PostgreSQL is killed with rows waiting', () => {
  const postgres = new PrivatePostgres('relaydb', 23892);
  let bed: RelayTestBed;

  beforeAll(async () => {
    await postgres.start();
    bed = new RelayTestBed(undefined, postgres.databaseAdminUrl);
    await bed.setUp({ relay: { pollIntervalMs: 200, maxBackoffMs: 1000 } });
    // Without its topic (the relay never auto-creates one) every send fails, transiently: rows
    // wait in the outbox until the test creates it again.
    await topicAdmin((admin) => admin.deleteTopics({ topics: [bed.catalogue.topic] }));
  });

  afterAll(async () => {
    await postgres.start().catch(() => undefined);
    await bed?.tearDown();
    await postgres.stop();
  });

  async function topicAdmin(act: (admin: Admin) => Promise<unknown>): Promise<void> {
    const admin = bed.kafka.admin();
    await admin.connect();
    try {
      await act(admin);
    } finally {
      await admin.disconnect();
    }
  }

  it('keeps reporting the waiting rows’ growing age while the database is down, then publishes each once', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const key = `${tenant}:cart`;
    for (const orderId of ['o-1', 'o-2', 'o-3']) await bed.write(tenant, { orderId }, key);
    await waitFor(
      'the failed sends recorded on the rows',
      async () => (await bed.rows()).every((row) => row.attempts > 0 && row.last_error !== null),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const ageBefore = await waitFor('the backlog gauges', async () => {
      const age = await bed.counterValue('outbox_oldest_age_seconds');
      return (await bed.counterValue('outbox_backlog')) === 3 && age > 0 ? age : undefined;
    });

    await postgres.kill();
    // Nothing can be read or marked without the database: the age keeps growing from what was
    // last known, so an "outbox stuck" alert fires during a database outage too.
    await waitFor(
      'the age to grow with the database down',
      async () =>
        (await bed.counterValue('outbox_oldest_age_seconds')) >= ageBefore + 3 ? true : undefined,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(await bed.counterValue('outbox_backlog')).toBe(3);
    expect(bed.received).toEqual([]);
    const warnings = bed.logs.filter(
      (line) => line.message === 'outbox relay could not publish; retrying',
    );
    expect(warnings.length).toBeGreaterThan(0);

    await postgres.start();
    await topicAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: bed.catalogue.topic, numPartitions: 1, replicationFactor: 1 }],
      }),
    );
    await bed.startReader();
    await waitFor('every order on the topic', () => (bed.received.length >= 3 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    await waitFor('the backlog drained', async () => (await bed.relay.backlog()) === 0, {
      timeoutMs: 30_000,
    });
    // Every send before failed (no topic), so nothing reached the topic twice; order per key holds.
    expect(bed.received.map((r) => r.orderId)).toEqual(['o-1', 'o-2', 'o-3']);
    expect((await bed.rows()).map((row) => row.status)).toEqual([
      'published',
      'published',
      'published',
    ]);
    await waitFor('the gauges back at zero', async () =>
      (await bed.counterValue('outbox_backlog')) === 0 &&
      (await bed.counterValue('outbox_oldest_age_seconds')) === 0
        ? true
        : undefined,
    );
  });
});
