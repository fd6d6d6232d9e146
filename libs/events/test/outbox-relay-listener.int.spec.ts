import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { waitFor } from '@tenantry/testing';
import { RelayTestBed } from './support/relay-test-bed';

// Polling every 30 s: anything published within a second was woken by NOTIFY.
const POLL_MS = 30_000;
const PROMPT_MS = 1_000;

describe("the relay's LISTEN connection", () => {
  let bed: RelayTestBed;
  let admin: Client;
  let applicationName: string;

  beforeAll(async () => {
    bed = new RelayTestBed();
    applicationName = `relay-${bed.domain}`;
    await bed.setUp({
      relay: {
        pollIntervalMs: POLL_MS,
        listeningPollMs: POLL_MS,
        listenerApplicationName: applicationName,
      },
    });
    admin = new Client({ connectionString: bed.env.databaseAdminUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await bed?.tearDown();
  });

  /** The relay's listening backend, once it has issued LISTEN (found by its last query). */
  async function listener(): Promise<{ pid: number; application_name: string } | undefined> {
    const { rows } = await admin.query<{ pid: number; application_name: string }>(
      `SELECT pid, application_name FROM pg_stat_activity
       WHERE datname = $1 AND query = 'LISTEN event_outbox'`,
      [bed.database.name],
    );
    return rows.length === 1 ? rows[0] : undefined;
  }

  /** Writes one row and returns how long it took to be marked published. */
  async function publishLatencyMs(tenant: string): Promise<number> {
    const started = Date.now();
    const id = await bed.write(tenant, { orderId: randomUUID() });
    await waitFor(
      'the row published',
      async () => (await bed.rows()).find((r) => r.id === id && r.status === 'published'),
      { timeoutMs: POLL_MS + 5_000, intervalMs: 20 },
    );
    return Date.now() - started;
  }

  it('is a dedicated connection that re-LISTENs after its backend is terminated', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const first = (await waitFor('the listener', listener)).pid;
    // Its own name, so operators (and this test) can tell it from the pool's connections.
    expect((await listener())?.application_name).toBe(applicationName);
    expect(await publishLatencyMs(tenant)).toBeLessThan(PROMPT_MS);

    await admin.query(`SELECT pg_terminate_backend($1)`, [first]);
    const second = await waitFor('a new listener', async () => {
      const pid = (await listener())?.pid;
      return pid !== undefined && pid !== first ? pid : undefined;
    });
    expect(second).not.toBe(first);
    expect(
      bed.logs.some((l) => l.level === 'warn' && l.message.startsWith('outbox listener lost')),
    ).toBe(true);
    expect(bed.relay.listening).toBe(true);

    expect(await publishLatencyMs(tenant)).toBeLessThan(PROMPT_MS);
  });
});
