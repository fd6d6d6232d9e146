import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DLQ_HEADERS, createKafkaClient } from '@tenantry/events';
import { testStackEnv, waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { OpsCli } from '../support/ops-cli';
import { E2ePlatform } from '../support/platform';
import { PrivateZipkin, freeLowPort } from '../support/private-zipkin';
import { freePort } from '../support/service-process';

const PASSWORD = 'correct horse battery staple';

// One platform for every test (the trace test's Zipkin receives its spans too): each platform
// start and stop is several seconds of services compiling, migrating and leaving their groups.
describe('tenantry, the operators CLI, against the real platform', () => {
  let zipkin: PrivateZipkin;
  let platform: E2ePlatform;
  let cli: OpsCli;
  /** The CLI, bundled once (see OpsCli); `tenants show` below also runs through its real bin. */
  const tenantry = (env: Record<string, string>, ...args: string[]) => cli.run(env, ...args);
  const stack = testStackEnv();
  const kafka = createKafkaClient({
    clientId: `ops-cli-e2e-${randomUUID()}`,
    brokers: stack.kafkaBrokers,
  });
  const operatorEmail = `ops-${randomUUID()}@tenantry.test`;
  let env: Record<string, string>;
  let tenantId: string;

  beforeAll(async () => {
    zipkin = new PrivateZipkin('opscli', await freeLowPort());
    platform = new E2ePlatform({
      // A grace period the test never waits out: the deletion is shown, then canceled.
      deletionGracePeriod: 'PT1H',
      serviceEnv: { TELEMETRY_EXPORTER: 'zipkin', ZIPKIN_URL: `${zipkin.url}/api/v2/spans` },
    });
    // Spans exported before Zipkin answers are lost; the trace test's come after both are up.
    [cli] = await Promise.all([OpsCli.build(), zipkin.start(), platform.start()]);
    env = {
      TENANTRY_API_URL: platform.gatewayUrl,
      TENANTRY_OPERATOR_EMAIL: operatorEmail,
      TENANTRY_OPERATOR_PASSWORD: PASSWORD,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    };
    const [signup] = await Promise.all([
      call(platform.gatewayUrl, 'POST', '/v1/signup', {
        body: {
          tenantName: `Ops ${randomUUID().slice(0, 8)}`,
          email: `owner-${randomUUID()}@example.test`,
          password: PASSWORD,
          displayName: 'Owner',
        },
      }),
      platform.createOperator(operatorEmail, PASSWORD),
    ]);
    expect(signup.status).toBe(201);
    tenantId = String(signup.body.tenantId);
  }, 240_000);

  afterAll(async () => {
    cli?.dispose();
    await platform?.stop();
    await zipkin?.stop();
  });

  /** Identity's audit rows for the tenant, read as its owner inside the tenant (RLS is forced). */
  async function identityAudit(action: string, tenant = tenantId) {
    const client = new Client({ connectionString: platform.identityDb.ownerUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
      const { rows } = await client.query<{
        actor_type: string;
        actor_id: string;
        details: unknown;
      }>(
        `SELECT actor_type, actor_id, details FROM audit_log WHERE tenant_id = $1 AND action = $2`,
        [tenant, action],
      );
      await client.query('COMMIT');
      return rows;
    } finally {
      await client.end();
    }
  }

  /** The first `count` records of each topic, from its start (one consumer, one group join). */
  async function readAll(counts: Record<string, number>) {
    const consumer = kafka.consumer({ groupId: `ops-cli-e2e-read-${randomUUID()}` });
    const seen = new Map<string, { value: Buffer | null; headers?: Record<string, unknown> }[]>(
      Object.keys(counts).map((topic) => [topic, []]),
    );
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: Object.keys(counts), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, message }) => {
          seen.get(topic)?.push(message);
        },
      });
      await waitFor(
        `${JSON.stringify(counts)} records`,
        () => Object.entries(counts).every(([topic, count]) => seen.get(topic)!.length >= count),
        { timeoutMs: 30_000 },
      );
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  async function operatorId(): Promise<string> {
    const login = await call(platform.gatewayUrl, 'POST', '/v1/operators/token', {
      body: { email: operatorEmail, password: PASSWORD },
    });
    return String(login.body.operatorId);
  }

  it('shows, suspends and resumes a tenant through the gateway, audited with the operator', async () => {
    const shown = await cli.runBin(env, '--json', 'tenants', 'show', tenantId);
    expect([shown.code, shown.stderr]).toEqual([0, '']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      tenantId,
      status: 'active',
      plan: expect.any(String),
    });

    const suspended = await tenantry(
      env,
      'tenants',
      'suspend',
      tenantId,
      '--reason',
      'ops-cli e2e',
    );
    expect(suspended.code).toBe(0);
    expect(suspended.stdout.trim()).toBe(`tenant ${tenantId}: suspended`);
    expect(await identityAudit('tenant.suspended')).toEqual([
      { actor_type: 'operator', actor_id: await operatorId(), details: { reason: 'ops-cli e2e' } },
    ]);
    const text = await tenantry(env, 'tenants', 'show', tenantId);
    expect(text.stdout).toMatch(/^status: +suspended$/m);
    expect(text.stdout).toMatch(/^reason: +ops-cli e2e$/m);
    // Listed among the suspended tenants (every page walked), and in the table.
    const listed = await tenantry(env, '--json', 'tenants', 'list', '--status', 'suspended');
    expect(listed.code).toBe(0);
    const suspendedIds = (JSON.parse(listed.stdout) as { tenantId: string; status: string }[]).map(
      (t) => t.tenantId,
    );
    expect(suspendedIds).toContain(tenantId);
    const table = await tenantry(env, 'tenants', 'list');
    expect(table.stdout).toMatch(new RegExp(`^${tenantId} +suspended `, 'm'));
    expect((await tenantry(env, 'tenants', 'list', '--status', 'gone')).code).toBe(2);

    const resumed = await tenantry(env, '--json', 'tenants', 'resume', tenantId);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ tenantId, status: 'active' });
    expect(await identityAudit('tenant.resumed')).toHaveLength(1);
  });

  it('deletes a tenant with --yes after its grace period, shows it, cancels it; all audited with the operator', async () => {
    const signup = await call(platform.gatewayUrl, 'POST', '/v1/signup', {
      body: {
        tenantName: `Gone ${randomUUID().slice(0, 8)}`,
        email: `gone-${randomUUID()}@example.test`,
        password: PASSWORD,
        displayName: 'Owner',
      },
    });
    const doomed = String(signup.body.tenantId);
    const deleted = await tenantry(env, '--json', 'tenants', 'delete', doomed, '--yes');
    expect([deleted.code, deleted.stderr]).toEqual([0, '']);
    const state = JSON.parse(deleted.stdout);
    expect(state).toMatchObject({
      tenantId: doomed,
      status: 'deleting',
      pending: ['authorization', 'billing', 'reporting'],
    });
    expect(Date.parse(state.purgeAfter) - Date.parse(state.deletionRequestedAt)).toBe(3600_000);
    expect(await identityAudit('tenant.deletion-requested', doomed)).toEqual([
      expect.objectContaining({ actor_type: 'operator', actor_id: await operatorId() }),
    ]);
    const text = await tenantry(env, 'tenants', 'show', doomed);
    expect(text.stdout).toMatch(/^status: +deleting$/m);
    expect(text.stdout).toContain(`purge after:`);
    expect(text.stdout).toContain(state.purgeAfter);
    expect(text.stdout).toMatch(/^waiting for: +the purge \(grace period\)$/m);
    const listed = await tenantry(env, '--json', 'tenants', 'list', '--status', 'deleting');
    expect(JSON.parse(listed.stdout).map((t: { tenantId: string }) => t.tenantId)).toContain(
      doomed,
    );
    // A tenant being deleted cannot be resumed: identity's 409, printed, exit 1.
    const resumed = await tenantry(env, 'tenants', 'resume', doomed);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('409');

    const canceled = await tenantry(env, 'tenants', 'cancel-deletion', doomed);
    expect([canceled.code, canceled.stdout.trim()]).toEqual([0, `tenant ${doomed}: active`]);
    expect(await identityAudit('tenant.deletion-canceled', doomed)).toEqual([
      expect.objectContaining({ actor_type: 'operator', actor_id: await operatorId() }),
    ]);
    const again = await tenantry(env, 'tenants', 'cancel-deletion', doomed);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409');
  });

  it('exits 1 with the problem on a refusal, 2 on a usage error, 3 when nothing answers', async () => {
    const missing = await tenantry(env, 'tenants', 'show', randomUUID());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    expect(missing.stderr).toContain('No such tenant');

    const suspensionsBefore = (await identityAudit('tenant.suspended')).length;
    const wrongPassword = await tenantry(
      { ...env, TENANTRY_OPERATOR_PASSWORD: 'not the password' },
      'tenants',
      'suspend',
      tenantId,
    );
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain('POST /v1/operators/token: 401');
    expect(await identityAudit('tenant.suspended')).toHaveLength(suspensionsBefore);

    const usage = await tenantry(env, 'tenants', 'suspend', 'not-a-tenant-id');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('a tenant id is a UUID');

    const declined = await tenantry(env, 'tenants', 'delete', tenantId);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('not confirmed');

    const closedPort = await freePort();
    const unreachable = await tenantry(
      { ...env, TENANTRY_API_URL: `http://127.0.0.1:${closedPort}` },
      'tenants',
      'show',
      tenantId,
    );
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(
      `cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED`,
    );

    const noKafka = await tenantry(
      { ...env, KAFKA_BROKERS: `127.0.0.1:${closedPort}` },
      '--timeout',
      '1',
      'consumer',
      'lag',
    );
    expect(noKafka.code).toBe(3);
    expect(noKafka.stderr).toContain(`cannot reach Kafka at 127.0.0.1:${closedPort}`);
  });

  it('lists a fresh topic’s dead letters with filters, and replays them', async () => {
    const topic = `ops-cli-e2e-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 1 },
        { topic: `${topic}.dlq`, numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const eventId = randomUUID();
    await producer.send({
      topic: `${topic}.dlq`,
      messages: [
        {
          key: tenantId,
          value: Buffer.from('undecodable'),
          headers: {
            ce_id: eventId,
            ce_type: 'identity.tenant.created',
            ce_tenantid: tenantId,
            [DLQ_HEADERS.reason]: 'handler refused it',
            [DLQ_HEADERS.consumer]: 'ops-cli-e2e',
            [DLQ_HEADERS.attempts]: '3',
            [DLQ_HEADERS.originalTopic]: topic,
            [DLQ_HEADERS.failedAt]: new Date().toISOString(),
          },
        },
      ],
    });
    await producer.disconnect();

    const listed = await tenantry(env, '--json', 'dlq', 'list', topic, '--tenant', tenantId);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      topic,
      count: 1,
      entries: [
        {
          eventId,
          tenantId,
          eventType: 'identity.tenant.created',
          reason: 'handler refused it',
          replayed: false,
        },
      ],
    });
    const other = await tenantry(
      env,
      '--json',
      'dlq',
      'list',
      topic,
      '--type',
      'billing.invoice.issued',
    );
    expect(JSON.parse(other.stdout)).toMatchObject({ count: 0, entries: [] });
    const table = await tenantry(env, 'dlq', 'list', topic);
    expect(table.stdout).toMatch(
      new RegExp(
        `^${eventId}@0:0 +identity.tenant.created +${tenantId} +\\S+ +no +handler refused it$`,
        'm',
      ),
    );

    // An entry without a tenant cannot be audited in any tenant: identity refuses, nothing replays.
    const strayId = randomUUID();
    await producer.connect();
    await producer.send({
      topic: `${topic}.dlq`,
      messages: [
        {
          key: null,
          value: Buffer.from('no tenant'),
          headers: { ce_id: strayId, ce_type: 'identity.tenant.created' },
        },
      ],
    });
    await producer.disconnect();
    const refused = await tenantry(env, 'dlq', 'replay', topic, '--id', strayId);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `dlq replay ${topic}: nothing replayed: identity did not record the replay`,
    );
    expect(refused.stderr).toContain('422');
    expect(await identityAudit('dlq.replay-started')).toEqual([]);

    const replayed = await tenantry(env, '--json', 'dlq', 'replay', topic, '--id', eventId);
    expect(replayed.code).toBe(0);
    const operator = await operatorId();
    const result = JSON.parse(replayed.stdout) as { auditIds: string[] };
    expect(result).toMatchObject({ count: 1, operatorId: operator });
    expect(result.auditIds).toHaveLength(1);
    const [auditId] = result.auditIds;
    expect(replayed.stderr).toContain(
      `dlq replay ${topic}: 1 replayed, 0 skipped, by operator ${operator}, audit ${auditId}`,
    );
    // Identity audited it inside the tenant, with the operator as actor, before it ran.
    expect(await identityAudit('dlq.replay-started')).toEqual([
      {
        actor_type: 'operator',
        actor_id: operator,
        details: expect.objectContaining({
          topic,
          filter: { eventIds: [eventId] },
          count: 1,
          entryIds: [`${eventId}@0:0`],
          eventIds: [eventId],
        }),
      },
    ]);
    // The replay mark and the replayed copy carry the audit id.
    const read = await readAll({ [`${topic}.dlq.replayed`]: 1, [topic]: 1 });
    const marks = read.get(`${topic}.dlq.replayed`)!;
    expect(JSON.parse(String(marks[0]?.value))).toMatchObject({
      entryId: `${eventId}@0:0`,
      auditId,
      replayedBy: `operator:${operator}`,
    });
    const copies = read.get(topic)!;
    expect(String(copies[0]?.headers?.['x-dlq-replay-audit-id'])).toBe(auditId);
    const again = await tenantry(env, '--json', 'dlq', 'replay', topic, '--tenant', tenantId);
    expect(JSON.parse(again.stdout)).toMatchObject({ count: 0, skipped: [`${eventId}@0:0`] });
    const shown = await tenantry(env, '--json', 'dlq', 'show', topic, eventId);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      eventId,
      replayed: true,
      consumer: 'ops-cli-e2e',
    });

    const noDlq = await tenantry(env, 'dlq', 'list', `${topic}-without-dlq`);
    expect(noDlq.code).toBe(1);
    expect(noDlq.stderr).toContain('does not exist');
  });

  it('reports a consumer group’s lag per partition and in total', async () => {
    const topic = `ops-cli-lag-${randomUUID().slice(0, 8)}`;
    const groupId = `ops-cli-e2e-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `m${i}` })),
      });
      await producer.disconnect();
      // The group has read one message of partition 0 and none of partition 1.
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
    } finally {
      await admin.disconnect();
    }

    const lag = await tenantry(env, '--json', 'consumer', 'lag', '--group', groupId);
    expect([lag.code, lag.stderr]).toEqual([0, '']);
    expect(JSON.parse(lag.stdout)).toEqual({
      total: 4,
      groups: [
        {
          groupId,
          lag: 4,
          partitions: [
            { groupId, topic, partition: 0, committed: 1, end: 3, lag: 2 },
            { groupId, topic, partition: 1, committed: null, end: 2, lag: 2 },
          ],
        },
      ],
    });
    const text = await tenantry(env, 'consumer', 'lag', '--group', groupId);
    expect(text.stdout).toContain('total lag: 4');
    const none = await tenantry(env, 'consumer', 'lag', '--group', `${groupId}-nobody`);
    expect(none.code).toBe(1);
  });

  it("prints each service's outbox backlog from its metrics", async () => {
    const metrics = [
      `identity=${platform.identity.url}/metrics`,
      `authorization=${platform.authorization.url}/metrics`,
      `gateway=${platform.gatewayMetricsUrl}/metrics`,
    ].join(',');
    const status = await tenantry(
      { ...env, TENANTRY_METRICS_URLS: metrics },
      '--json',
      'outbox',
      'status',
    );
    expect([status.code, status.stderr]).toEqual([0, '']);
    const { services } = JSON.parse(status.stdout) as {
      services: { service: string; backlog: number; oldestAgeSeconds: number }[];
    };
    expect(services.map((s) => s.service)).toEqual(['identity', 'authorization', 'gateway']);
    for (const row of services) {
      expect(row).toEqual(
        expect.objectContaining({
          backlog: expect.any(Number),
          oldestAgeSeconds: expect.any(Number),
        }),
      );
    }

    const oneDown = await tenantry(
      {
        ...env,
        TENANTRY_METRICS_URLS: `${metrics},billing=http://127.0.0.1:${await freePort()}/metrics`,
      },
      'outbox',
      'status',
    );
    expect(oneDown.code).toBe(3);
    expect(oneDown.stdout).toMatch(/^identity +\d+ +[\d.]+ +http/m);
    expect(oneDown.stdout).toMatch(/^billing +error: ECONNREFUSED/m);
  });

  it('finds a request’s trace by its request id', async () => {
    const signup = await call(platform.gatewayUrl, 'POST', '/v1/signup', {
      body: {
        tenantName: `Trace ${randomUUID().slice(0, 8)}`,
        email: `trace-${randomUUID()}@example.test`,
        password: PASSWORD,
        displayName: 'Tracer',
      },
    });
    expect(signup.status).toBe(201);
    const requestId = String(signup.headers.get('x-request-id'));
    const traceEnv = { ZIPKIN_URL: zipkin.url };
    // Spans reach Zipkin in batches: wait until the gateway's and identity's are both there.
    const found = await waitFor(
      'the trace in Zipkin, with gateway and identity',
      async () => {
        const run = await tenantry(traceEnv, '--json', 'trace', requestId);
        if (run.code !== 0) return undefined;
        const result = JSON.parse(run.stdout) as {
          traces: { traceId: string; services: string[]; uiUrl: string; tree: string[] }[];
        };
        const services = result.traces[0]?.services ?? [];
        return services.includes('gateway') && services.includes('identity') ? result : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(found.traces).toHaveLength(1);
    const [trace] = found.traces;
    expect(trace?.uiUrl).toBe(`${zipkin.url}/zipkin/traces/${trace?.traceId}`);
    expect(trace?.tree[0]).toMatch(/^gateway: /);
    expect(trace?.tree.some((line) => /^ +identity: /.test(line))).toBe(true);

    const text = await tenantry(traceEnv, 'trace', requestId);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`trace:`);
    expect(text.stdout).toContain(`${zipkin.url}/zipkin/traces/${trace?.traceId}`);
    expect((await fetch(`${zipkin.url}/zipkin/traces/${trace?.traceId}`)).status).toBe(200);

    const unknown = await tenantry(traceEnv, 'trace', randomUUID());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no trace in Zipkin has request.id=');
  });
});
