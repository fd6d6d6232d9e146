import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { withTenant } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import {
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  createKafkaClient,
  defineEvent,
} from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import type { BackgroundTask, RuntimeHandle } from '../src';
import { createService } from '../src';

interface NoteAdded {
  noteId: string;
  text: string;
}

const env = testStackEnv();
const logger = createLogger('runtime-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A fresh domain per test: its topic, registry subject and consumer groups are its own. */
function catalogue() {
  const domain = `rt${randomBytes(4).toString('hex')}`;
  const topic = `${domain}.notes`;
  return {
    domain,
    topic,
    noteAdded: defineEvent<NoteAdded>({
      type: `${domain}.note.added`,
      topic,
      schema: {
        type: 'record',
        name: 'NoteAdded',
        namespace: 'tenantry.test',
        fields: [
          { name: 'noteId', type: 'string' },
          { name: 'text', type: 'string' },
        ],
      },
    }),
  };
}

type Catalogue = ReturnType<typeof catalogue>;

interface NotesParts {
  readonly durableSeen: EventEnvelope<NoteAdded>[];
  readonly instanceSeen: EventEnvelope<NoteAdded>[];
  publish(tenantId: string, text: string): Promise<void>;
}

function startNotesService(
  db: TestDatabase,
  events: Catalogue,
  extra: {
    readonly name?: string;
    readonly tasks?: readonly BackgroundTask[];
    readonly metricsPort?: number;
    readonly failAssembly?: boolean;
  } = {},
): Promise<RuntimeHandle & NotesParts> {
  return createService({
    name: extra.name ?? `${events.domain}-notes`,
    logger,
    database: {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    },
    kafkaBrokers: env.kafkaBrokers,
    schemaRegistryUrl: env.schemaRegistryUrl,
    topics: [{ name: events.topic, partitions: 2 }],
    produces: [events.noteAdded],
    relay: { pollIntervalMs: 100 },
    http: { contextKeys: false, port: 0, metricsPort: extra.metricsPort },
    assemble({ dataSource, outbox, consumers }) {
      if (extra.failAssembly) throw new Error('assembly refused on purpose');
      const durableSeen: EventEnvelope<NoteAdded>[] = [];
      const instanceSeen: EventEnvelope<NoteAdded>[] = [];
      consumers
        .durable(`${events.domain}.notes-durable`)
        .on(events.noteAdded, async (event) => void durableSeen.push(event));
      consumers
        .perInstance(`${events.domain}.notes-cache.`, { fromBeginning: true })
        .on(events.noteAdded, async (event) => void instanceSeen.push(event));
      const publish = (tenantId: string, text: string): Promise<void> =>
        runWithTenantContext(
          { tenantId, actor: { type: 'user', id: 'u-1' }, requestId: randomUUID() },
          () =>
            withTenant(dataSource, tenantId, async (tx) => {
              await outbox.publish(tx, events.noteAdded, {
                subject: randomUUID(),
                data: { noteId: randomUUID(), text },
              });
            }),
        );
      return {
        http: { configure: () => undefined },
        tasks: extra.tasks,
        exposes: { durableSeen, instanceSeen, publish },
      };
    },
  });
}

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
