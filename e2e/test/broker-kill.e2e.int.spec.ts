import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createKafkaClient } from '@tenantry/events';
import { PrivateKafka, waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import type { TenantSession } from '../support/tenant-users';
import { signUpOwner } from '../support/tenant-users';

const WRITES = 120;
const CONCURRENCY = 4;
/** Writes accepted before the broker is killed; the rest of the burst runs without a broker. */
const KILL_AFTER = 30;

/**
 * One row per (key id, what) from authorization's database, read with SQL as its owner inside
 * the tenant's transaction (row-level security is forced, for the owner too).
 */
async function appliedByAuthorization(
  ownerUrl: string,
  tenantId: string,
): Promise<{ audit: Map<string, number>; assignments: Map<string, number>; inbox: number[] }> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const audit = await client.query<{ target: string; count: string }>(
      `SELECT target, count(*) FROM audit_log
        WHERE tenant_id = $1 AND action = 'identity.api-key.created' GROUP BY target`,
      [tenantId],
    );
    const assignments = await client.query<{ subject_id: string; count: string }>(
      `SELECT subject_id, count(*) FROM role_assignments
        WHERE tenant_id = $1 AND subject_type = 'api_key' GROUP BY subject_id`,
      [tenantId],
    );
    const inbox = await client.query<{ count: string }>(
      `SELECT count(*) FROM event_inbox
        WHERE tenant_id = $1 AND event_type = 'identity.api-key.created'
        GROUP BY consumer, event_id`,
      [tenantId],
    );
    await client.query('COMMIT');
    return {
      audit: new Map(audit.rows.map((row) => [row.target, Number(row.count)])),
      assignments: new Map(assignments.rows.map((row) => [row.subject_id, Number(row.count)])),
      inbox: inbox.rows.map((row) => Number(row.count)),
    };
  } finally {
    await client.end();
  }
}

/**
 * Every `identity.api-key.created` of the tenant on the topic and on its DLQ, read with a raw
 * consumer of the test's own (CloudEvents headers only: no code under test decodes them).
 */
async function onTheTopics(
  brokers: readonly string[],
  tenantId: string,
): Promise<{ subjects: string[]; deadLettered: number }> {
  const kafka = createKafkaClient({ clientId: `checker-${randomUUID()}`, brokers });
  const admin = kafka.admin();
  await admin.connect();
  const topics = ['identity.events', 'identity.events.dlq'];
  const ends = new Map<string, number>();
  for (const topic of topics) {
    for (const offsets of await admin.fetchTopicOffsets(topic)) {
      ends.set(`${topic}/${offsets.partition}`, Number(offsets.high));
    }
  }
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `checker-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const subjects: string[] = [];
  let deadLettered = 0;
  const done = new Set([...ends].filter(([, high]) => high === 0).map(([key]) => key));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('checker did not reach the end')), 60_000);
    const finishIfDone = (): void => {
      if (done.size === ends.size) {
        clearTimeout(timer);
        resolve();
      }
    };
    finishIfDone();
    void consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          const header = (name: string): string | undefined => message.headers?.[name]?.toString();
          if (
            header('ce_tenantid') === tenantId &&
            header('ce_type') === 'identity.api-key.created'
          ) {
            if (topic.endsWith('.dlq')) deadLettered += 1;
            else subjects.push(header('ce_subject') ?? '');
          }
          if (Number(message.offset) + 1 >= (ends.get(`${topic}/${partition}`) ?? 0)) {
            done.add(`${topic}/${partition}`);
            finishIfDone();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { subjects, deadLettered };
}

// Kills its own broker, so it runs against a private one, not the suite's shared broker. The
// consumers' group sessions outlive the kill, so they rejoin only after the broker has expired
// them (about 30 s): the wait below allows for it.
describe('a broker killed with kill -9 in the middle of a burst of writes through the gateway', () => {
  const kafka = new PrivateKafka('brokerkill', 23692);
  let platform: E2ePlatform;
  let owner: TenantSession;

  beforeAll(async () => {
    await kafka.start();
    platform = await new E2ePlatform({ kafkaBrokers: kafka.brokers }).start();
    owner = await signUpOwner(platform.gatewayUrl);
  });

  afterAll(async () => {
    await kafka.start().catch(() => undefined);
    await platform?.stop();
    await kafka.stop();
  });

  it('applies every accepted write’s event exactly once in every consumer after the broker is back', async () => {
    const accepted: string[] = [];
    const refused: number[] = [];
    let next = 0;
    let killed: Promise<void> | undefined;
    const writer = async (): Promise<void> => {
      while (next < WRITES) {
        const n = next++;
        const response = await call<{ apiKeyId?: string }>(
          platform.gatewayUrl,
          'POST',
          '/v1/api-keys',
          {
            token: owner.accessToken,
            body: { name: `burst-${n}`, role: 'viewer' },
          },
        );
        if (response.status === 201 && response.body.apiKeyId)
          accepted.push(response.body.apiKeyId);
        else refused.push(response.status);
        if (accepted.length === KILL_AFTER && !killed) killed = kafka.kill();
      }
    };
    const burstStarted = Date.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, writer));
    await killed;
    const burstMs = Date.now() - burstStarted;

    // Writes do not need the broker (the outbox holds their events), so all were accepted.
    expect(refused).toEqual([]);
    expect(accepted).toHaveLength(WRITES);

    await kafka.start();
    const restarted = Date.now();
    const applied = await waitFor(
      'authorization to apply every accepted key',
      async () => {
        const state = await appliedByAuthorization(
          platform.authorizationDb.ownerUrl,
          owner.tenantId,
        );
        return accepted.every((id) => state.audit.has(id) && state.assignments.has(id))
          ? state
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    ).catch(async (error: unknown) => {
      // What an SRE would look at first: the outbox that should have drained, and the logs.
      const identityOutbox = new Client({ connectionString: platform.identityDb.ownerUrl });
      await identityOutbox.connect();
      const { rows } = await identityOutbox.query(
        `SELECT status, count(*), max(attempts) AS attempts, max(last_error) AS last_error
           FROM event_outbox GROUP BY status`,
      );
      await identityOutbox.end();
      const state = await appliedByAuthorization(platform.authorizationDb.ownerUrl, owner.tenantId);
      process.stdout.write(
        `identity outbox: ${JSON.stringify(rows)}\n` +
          `applied: audit ${state.audit.size}, assignments ${state.assignments.size}\n` +
          `identity logs:\n${platform.identity.logs().slice(-3000)}\n` +
          `authorization logs:\n${platform.authorization.logs().slice(-5000)}\n`,
      );
      throw error;
    });
    process.stdout.write(
      `broker kill: burst of ${WRITES} in ${burstMs} ms; all applied ${Date.now() - restarted} ms after the restart\n`,
    );

    // Exactly once at each consumer: one audit record and one role assignment per key, one inbox
    // row per (consumer, event), and nothing else of this tenant.
    expect([...applied.audit.keys()].sort()).toEqual([...accepted].sort());
    expect([...applied.audit.values()].every((count) => count === 1)).toBe(true);
    expect([...applied.assignments.keys()].sort()).toEqual([...accepted].sort());
    expect(applied.inbox.every((count) => count === 1)).toBe(true);
    expect(applied.inbox).toHaveLength(2 * WRITES);

    // Nothing lost on the way: each key's event is on the topic (a re-send after the kill may
    // put one there twice; the inbox is what makes that harmless), and none was dead-lettered.
    const topics = await onTheTopics(kafka.brokers, owner.tenantId);
    expect(new Set(topics.subjects)).toEqual(new Set(accepted));
    expect(topics.deadLettered).toBe(0);
  }, 420_000);
});
