import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  createKafkaClient,
} from '@tenantry/events';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { BackgroundTask, RuntimeHandle } from '../src';
import { catalogue, startNotesService } from './support/notes-service';

const env = testStackEnv();

async function consumerGroups(): Promise<string[]> {
  const admin = createKafkaClient({ clientId: 'runtime-test', brokers: env.kafkaBrokers }).admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((group) => group.groupId);
  } finally {
    await admin.disconnect();
  }
}

async function connectionsNamed(applicationName: string): Promise<number> {
  const client = new Client({ connectionString: env.databaseAdminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      'SELECT count(*) FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return Number(rows[0]!.count);
  } finally {
    await client.end();
  }
}

describe('createService', () => {
  let db: TestDatabase;
  const started: RuntimeHandle[] = [];

  beforeEach(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, 'runtime');
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((service) => service.stop()));
    await db.drop();
  });

  it('starts two replicas on one fresh database at once: migrations run once, both serve', async () => {
    const events = catalogue();
    const starts = await Promise.allSettled([
      startNotesService(db, events),
      startNotesService(db, events),
    ]);
    // Whichever started is stopped after the test, also when the other failed.
    for (const start of starts) if (start.status === 'fulfilled') started.push(start.value);
    const [first, second] = starts;
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'rejected') throw second.reason;
    const [a, b] = [first.value, second.value];

    const owner = new Client({ connectionString: db.ownerUrl });
    await owner.connect();
    const { rows } = await owner.query<{ name: string }>('SELECT name FROM migrations');
    await owner.end();
    expect(rows.map((row) => row.name).sort()).toEqual(
      [EventTables1764230400000.name, OutboxSetAside1796238000000.name].sort(),
    );
    for (const service of [a, b]) {
      const ready = await fetch(`http://127.0.0.1:${service.port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok' });
    }
  });

  it('delivers to the durable group once and to every replica’s own group, and a stop removes only that replica’s group and inbox rows', async () => {
    const events = catalogue();
    const a = await startNotesService(db, events);
    const b = await startNotesService(db, events);
    started.push(b);
    const tenantId = `t-${randomBytes(4).toString('hex')}`;
    await a.publish(tenantId, 'first');
    await a.publish(tenantId, 'second');

    await waitFor('both replicas saw both events', () =>
      a.instanceSeen.length === 2 && b.instanceSeen.length === 2 ? true : undefined,
    );
    await waitFor('the durable group handled both events once', () =>
      a.durableSeen.length + b.durableSeen.length === 2 ? true : undefined,
    );
    const aGroup = a.consumers.instanceName(`${events.domain}.notes-cache.`);
    const bGroup = b.consumers.instanceName(`${events.domain}.notes-cache.`);
    expect(aGroup).not.toBe(bGroup);
    expect(await consumerGroups()).toEqual(
      expect.arrayContaining([aGroup, bGroup, `${events.domain}.notes-durable`]),
    );

    await a.stop();
    const groups = await consumerGroups();
    expect(groups).not.toContain(aGroup);
    expect(groups).toEqual(expect.arrayContaining([bGroup, `${events.domain}.notes-durable`]));
    const owner = new Client({ connectionString: db.ownerUrl });
    await owner.connect();
    const { rows } = await owner.query<{ consumer: string; count: string }>(
      'SELECT consumer, count(*) FROM event_inbox GROUP BY consumer',
    );
    await owner.end();
    const rowsBy = Object.fromEntries(rows.map((row) => [row.consumer, Number(row.count)]));
    expect(rowsBy[aGroup]).toBeUndefined();
    expect(rowsBy[bGroup]).toBe(2);
    expect(rowsBy[`${events.domain}.notes-durable`]).toBe(2);
  });

  it('serves /metrics on the metrics port only when one is configured', async () => {
    const service = await startNotesService(db, catalogue(), { metricsPort: 0 });
    started.push(service);
    expect(service.metricsPort).toEqual(expect.any(Number));
    expect((await fetch(`http://127.0.0.1:${service.port}/metrics`)).status).toBe(404);
    const scraped = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('outbox_backlog');
  });

  it('stops the HTTP server before the tasks, and the tasks before the consumers and the pool', async () => {
    const order: string[] = [];
    let port = 0;
    let poolOpenWhenTaskStopped = false;
    const probed: { service?: RuntimeHandle } = {};
    const task: BackgroundTask = {
      name: 'probe',
      start: () => void order.push('task started'),
      stop: async () => {
        const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => false,
          () => true,
        );
        order.push(refused ? 'task stopped after http closed' : 'task stopped while http open');
        poolOpenWhenTaskStopped = probed.service?.dataSource.isInitialized ?? false;
      },
    };
    const service = await startNotesService(db, catalogue(), { tasks: [task] });
    probed.service = service;
    port = service.port!;
    await service.stop();
    await service.stop();
    expect(order).toEqual(['task started', 'task stopped after http closed']);
    expect(poolOpenWhenTaskStopped).toBe(true);
    expect(service.dataSource.isInitialized).toBe(false);
  });

  it('releases what it acquired when the assembly fails part-way', async () => {
    const name = `rt-fail-${randomBytes(4).toString('hex')}`;
    await expect(startNotesService(db, catalogue(), { name, failAssembly: true })).rejects.toThrow(
      'assembly refused on purpose',
    );
    await waitFor('its connections are closed', async () =>
      (await connectionsNamed(name)) === 0 ? true : undefined,
    );
  });
});
