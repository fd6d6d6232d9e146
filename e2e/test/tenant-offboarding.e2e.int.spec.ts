import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { MembershipAddedEvent, TenantBillingPurgedEvent } from '@tenantry/contracts';
import { openServiceDataSource, withTenant } from '@tenantry/db';
import type { EventDefinition } from '@tenantry/events';
import { EventCodec, Outbox } from '@tenantry/events';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { testStackEnv, waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { OpsCli } from '../support/ops-cli';
import { E2ePlatform } from '../support/platform';
import type { TenantSession } from '../support/tenant-users';
import { PASSWORD, inviteUser, signUpOwner } from '../support/tenant-users';

/** Long enough to cancel in, short enough to wait out. */
const GRACE_SECONDS = 5;
/** Fresh consumer groups read the shared topics' whole history before they reach this run. */
const CATCH_UP_MS = 240_000;

/** Rows of the tenant per table (tables with a `tenant_id` column), only tables that have some. */
type TenantRows = Record<string, number>;

/**
 * Every row of the tenant in one service database: information_schema names each table with a
 * `tenant_id` column; each is counted as the owner inside a transaction that sets the tenant
 * (row-level security is forced on the owner too).
 */
async function tenantRows(db: TestDatabase, tenantId: string): Promise<TenantRows> {
  const client = new Client({ connectionString: db.ownerUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const { rows: tables } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'tenant_id'
        ORDER BY table_name`,
    );
    const counts: TenantRows = {};
    for (const { table_name: table } of tables) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}" WHERE tenant_id::text = $1`,
        [tenantId],
      );
      if ((rows[0]?.n ?? 0) > 0) counts[table] = rows[0]!.n;
    }
    await client.query('COMMIT');
    return counts;
  } finally {
    await client.end();
  }
}

/** One query in the tenant's transaction, as the owner. */
async function inTenant<T>(
  db: TestDatabase,
  tenantId: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: db.ownerUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const { rows } = await client.query(sql, values);
    await client.query('COMMIT');
    return rows as T[];
  } finally {
    await client.end();
  }
}

describe('tenant offboarding across every service (the saga, docs/adr/0016)', () => {
  const platform = new E2ePlatform({
    billing: true,
    reporting: true,
    deletionGracePeriod: String(GRACE_SECONDS),
  });
  const stack = testStackEnv();
  const codec = new EventCodec(stack.schemaRegistryUrl);
  const operatorEmail = `ops-${randomUUID()}@tenantry.test`;
  const opened: DataSource[] = [];
  let api: string;
  let operatorToken: string;
  let deleted: { tenantId: string; ownerEmail: string; memberEmail: string };
  let cli: OpsCli;
  /** The operators' CLI (bundled once, see OpsCli): its stdout. */
  const tenantry = async (env: Record<string, string>, ...args: string[]): Promise<string> =>
    (await cli.run(env, ...args)).stdout;

  beforeAll(async () => {
    [cli] = await Promise.all([OpsCli.build(), platform.start()]);
    api = platform.gatewayUrl;
    // The test writes these as identity and billing would (their schemas are the services' own).
    await Promise.all([
      codec.register([MembershipAddedEvent, TenantBillingPurgedEvent]),
      platform.createOperator(operatorEmail, PASSWORD),
    ]);
    const operator = await call(api, 'POST', '/v1/operators/token', {
      body: { email: operatorEmail, password: PASSWORD },
    });
    expect(operator.status).toBe(200);
    operatorToken = String(operator.body.accessToken);
  });

  afterAll(async () => {
    cli?.dispose();
    for (const dataSource of opened) await dataSource.destroy();
    await platform.stop();
  });

  const databases = (): [string, TestDatabase][] => [...platform.databasesByService.entries()];
  const db = (service: string): TestDatabase => platform.databasesByService.get(service)!;

  interface TenantView {
    status: string;
    offboarding: {
      status: string;
      purgeAfter: string;
      purgeStartedAt: string;
      deletedAt: string | null;
      confirmed: { service: string }[];
      pending: string[];
    } | null;
  }
  const show = async (tenantId: string): Promise<TenantView> =>
    (
      await call<TenantView>(api, 'GET', `/v1/platform/tenants/${tenantId}`, {
        token: operatorToken,
      })
    ).body;

  /** A tenant with data in every service: members, a custom role, usage, a subscription. */
  async function tenantWithData(): Promise<{ owner: TenantSession; member: TenantSession }> {
    const owner = await signUpOwner(api);
    const member = await inviteUser(api, owner, 'member');
    const role = await call(api, 'POST', '/v1/roles', {
      token: owner.accessToken,
      body: { name: `auditor-${randomUUID().slice(0, 8)}`, permissions: ['audit:read'] },
    });
    expect(role.status).toBe(201);
    for (let i = 0; i < 3; i += 1) {
      expect((await call(api, 'GET', '/v1/members', { token: owner.accessToken })).status).toBe(
        200,
      );
    }
    const t = owner.tenantId;
    await waitFor(
      'every service to hold the tenant’s data',
      async () => {
        const [identity, authorization, billing, reporting] = await Promise.all(
          ['identity', 'authorization', 'billing', 'reporting'].map((s) => tenantRows(db(s), t)),
        );
        return (identity?.memberships ?? 0) >= 2 &&
          (authorization?.roles ?? 0) >= 1 &&
          (authorization?.role_assignments ?? 0) >= 2 &&
          (billing?.subscriptions ?? 0) === 1 &&
          (billing?.usage_ledger ?? 0) >= 1 &&
          (reporting?.tenant_profiles ?? 0) === 1 &&
          (reporting?.members ?? 0) >= 2 &&
          (reporting?.usage_daily ?? 0) >= 1
          ? true
          : undefined;
      },
      { timeoutMs: CATCH_UP_MS, intervalMs: 500 },
    );
    return { owner, member };
  }

  it('purges the tenant from every service database and completes once all confirmed', async () => {
    const { owner, member } = await tenantWithData();
    const tenantId = owner.tenantId;
    deleted = { tenantId, ownerEmail: owner.email, memberEmail: member.email };
    const requested = await call(api, 'DELETE', `/v1/platform/tenants/${tenantId}`, {
      token: operatorToken,
    });
    expect(requested.status).toBe(200);
    expect(requested.body).toMatchObject({ status: 'deleting' });
    // Refused like a suspended tenant during the grace period, before anything is erased.
    await waitFor('the gateway to refuse the tenant', async () =>
      (await call(api, 'GET', '/v1/members', { token: owner.accessToken })).status === 403
        ? true
        : undefined,
    );

    const done = await waitFor(
      'every service to confirm the purge',
      async () => {
        const body = await show(tenantId);
        return body.status === 'deleted' ? body : undefined;
      },
      { timeoutMs: CATCH_UP_MS, intervalMs: 500 },
    );
    expect(done.offboarding).toMatchObject({ status: 'deleted', pending: [] });
    const offboarding = done.offboarding!;
    expect(offboarding.confirmed.map((c) => c.service).sort()).toEqual([
      'authorization',
      'billing',
      'reporting',
    ]);
    expect(
      Date.parse(offboarding.purgeStartedAt) - Date.parse(offboarding.purgeAfter),
    ).toBeGreaterThanOrEqual(0);
    // The CLI says the same.
    const shown = await tenantry(
      {
        TENANTRY_API_URL: api,
        TENANTRY_OPERATOR_EMAIL: operatorEmail,
        TENANTRY_OPERATOR_PASSWORD: PASSWORD,
      },
      'tenants',
      'show',
      tenantId,
    );
    expect(shown).toMatch(/^status: +deleted$/m);
    expect(shown).toMatch(/^waiting for: +-$/m);

    await expectOnlyWhatTheAdrsAllow(tenantId);
  });

  /**
   * No row of the tenant is left in any service database, except these, each for a reason:
   * - identity `audit_log`, authorization `audit_log`: append-only audit records stay, their
   *   personal fields redacted (ADR 0008, ADR 0013);
   * - identity `tenant_purge_confirmations`: the saga's record, service names and times (ADR 0016);
   * - identity's `tenants` row (keyed `id`, not `tenant_id`) is the tombstone: no name, slug
   *   `deleted-<id>` (ADR 0013);
   * - billing, reporting `tenant_tombstones`, authorization `tenants` (state deleted) and
   *   `policy_versions`: tombstones that keep late events out and caches honest (ADR 0013, 0016);
   * - `event_inbox` (every service): consumer, event id and type, no personal data, kept so a
   *   redelivery is not applied twice, pruned by the inbox janitor (ADR 0003, 0013);
   * - `event_outbox`: only events the offboarding itself wrote after the purge (published rows
   *   are deleted by each purge; these go when the relay prunes them), and the gateway's usage
   *   events (the gateway holds nothing durable, its relay prunes them, no personal data).
   */
  async function expectOnlyWhatTheAdrsAllow(
    tenantId: string,
    /** Events the test itself wrote into a service's outbox. */
    written: Readonly<Record<string, readonly string[]>> = {},
  ): Promise<void> {
    const allowed: Record<string, readonly string[]> = {
      identity: ['audit_log', 'tenant_purge_confirmations', 'event_inbox', 'event_outbox'],
      authorization: ['audit_log', 'tenants', 'policy_versions', 'event_inbox', 'event_outbox'],
      billing: ['tenant_tombstones', 'event_inbox', 'event_outbox'],
      reporting: ['tenant_tombstones', 'event_inbox', 'event_outbox'],
      gateway: ['event_inbox', 'event_outbox'],
    };
    const offboardingEvents: Record<string, readonly string[]> = {
      identity: [
        'identity.tenant.deleted',
        'identity.user.deleted',
        'identity.tenant.deletion-completed',
      ],
      authorization: ['authorization.policy.changed', 'authorization.tenant.purged'],
      billing: ['billing.invoice.issued', 'billing.tenant.purged'],
      reporting: ['reporting.tenant.purged'],
      gateway: ['gateway.api-call.completed'],
    };
    for (const [service, database] of databases()) {
      const rows = await tenantRows(database, tenantId);
      const unexpected = Object.keys(rows).filter((t) => !allowed[service]!.includes(t));
      expect({ service, unexpected }).toEqual({ service, unexpected: [] });
      if (rows.event_outbox) {
        const types = await inTenant<{ event_type: string }>(
          database,
          tenantId,
          `SELECT DISTINCT event_type FROM event_outbox WHERE tenant_id = $1`,
          [tenantId],
        );
        const stray = types
          .map((r) => r.event_type)
          .filter((type) => !offboardingEvents[service]!.includes(type))
          .filter((type) => !(written[service] ?? []).includes(type));
        expect({ service, stray }).toEqual({ service, stray: [] });
      }
    }
    // Exactly the tombstones, and nothing personal in what stays.
    const [tombstone] = await inTenant<{ name: string; slug: string; status: string }>(
      db('identity'),
      tenantId,
      `SELECT name, slug, status FROM tenants WHERE id = $1`,
      [tenantId],
    );
    expect(tombstone).toEqual({ name: '', slug: `deleted-${tenantId}`, status: 'deleted' });
    const confirmations = await inTenant<{ service: string; confirmed: boolean }>(
      db('identity'),
      tenantId,
      `SELECT service, confirmed_at IS NOT NULL AS confirmed FROM tenant_purge_confirmations
        ORDER BY service`,
    );
    expect(confirmations).toEqual([
      { service: 'authorization', confirmed: true },
      { service: 'billing', confirmed: true },
      { service: 'reporting', confirmed: true },
    ]);
    expect(await inTenant(db('authorization'), tenantId, `SELECT state FROM tenants`)).toEqual([
      { state: 'deleted' },
    ]);
    expect(
      await inTenant(db('billing'), tenantId, `SELECT count(*)::int AS n FROM tenant_tombstones`),
    ).toEqual([{ n: 1 }]);
    expect(
      await inTenant(db('reporting'), tenantId, `SELECT count(*)::int AS n FROM tenant_tombstones`),
    ).toEqual([{ n: 1 }]);
    for (const service of ['identity', 'authorization']) {
      const audit = await inTenant<{ text: string }>(
        db(service),
        tenantId,
        `SELECT row_to_json(a)::text AS text FROM audit_log a`,
      );
      expect(audit.length).toBeGreaterThan(0);
      const personal = audit.filter(
        (row) => row.text.includes(deleted.ownerEmail) || row.text.includes(deleted.memberEmail),
      );
      expect({ service, personal }).toEqual({ service, personal: [] });
    }
  }

  it('keeps every row when an operator cancels within the grace period', async () => {
    const { owner } = await tenantWithData();
    const tenantId = owner.tenantId;
    const before = new Map<string, TenantRows>();
    for (const [service, database] of databases()) {
      before.set(service, await tenantRows(database, tenantId));
    }
    const requested = await call(api, 'DELETE', `/v1/platform/tenants/${tenantId}`, {
      token: operatorToken,
    });
    const canceled = await call(api, 'POST', `/v1/platform/tenants/${tenantId}/cancel-deletion`, {
      token: operatorToken,
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'active', purgeAfter: null });
    // Past the purge time the deletion would have had, and a few scheduler ticks more.
    const purgeAfter = Date.parse(String(requested.body.purgeAfter));
    await waitFor(
      'the canceled purge time to pass',
      () => (Date.now() > purgeAfter + 2000 ? true : undefined),
      { timeoutMs: (GRACE_SECONDS + 10) * 1000, intervalMs: 250 },
    );
    expect((await show(tenantId)).status).toBe('active');
    for (const [service, database] of databases()) {
      const after = await tenantRows(database, tenantId);
      for (const [table, count] of Object.entries(before.get(service)!)) {
        expect({ service, table, kept: (after[table] ?? 0) >= count }).toEqual({
          service,
          table,
          kept: true,
        });
      }
    }
    await waitFor('the tenant to be served again', async () =>
      (await call(api, 'GET', '/v1/members', { token: owner.accessToken })).status === 200
        ? true
        : undefined,
    );
  });

  /** Writes an event into `service`'s outbox, as that service would; its relay publishes it. */
  async function publishAs<T>(
    service: string,
    tenantId: string,
    definition: EventDefinition<T>,
    subject: string,
    data: T,
  ): Promise<string> {
    const database = db(service);
    const dataSource = await openServiceDataSource({
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [],
      applicationName: `${service}-test-producer`,
    });
    opened.push(dataSource);
    const outbox = new Outbox(codec, `/services/${service}`);
    const context = {
      tenantId,
      actor: { type: 'service' as const, id: `${service}-test` },
      requestId: randomUUID(),
    };
    const metadata = await runWithTenantContext(context, () =>
      withTenant(dataSource, tenantId, (tx) => outbox.publish(tx, definition, { subject, data })),
    );
    return metadata.id;
  }

  it('is unmoved by a duplicated confirmation, and refuses a later event of the deleted tenant (DLQ)', async () => {
    expect(deleted).toBeDefined();
    const { tenantId } = deleted;
    const completedBefore = await show(tenantId);
    const duplicate = await publishAs('billing', tenantId, TenantBillingPurgedEvent, tenantId, {
      tenantId,
      finalInvoiceNumber: null,
      purgedAt: new Date().toISOString(),
    });
    await waitFor('identity to consume the duplicate confirmation', async () =>
      (
        await inTenant(db('identity'), tenantId, `SELECT 1 FROM event_inbox WHERE event_id = $1`, [
          duplicate,
        ])
      ).length === 1
        ? true
        : undefined,
    );
    const after = await show(tenantId);
    expect(after.status).toBe('deleted');
    expect(after.offboarding?.deletedAt).toBe(completedBefore.offboarding?.deletedAt);
    expect(
      await inTenant(
        db('identity'),
        tenantId,
        `SELECT count(*)::int AS n FROM event_outbox WHERE event_type = 'identity.tenant.deletion-completed'`,
      ),
    ).toEqual([{ n: 1 }]);

    // A membership of the deleted tenant, published after its deletion completed.
    const lateUser = randomUUID();
    const late = await publishAs('identity', tenantId, MembershipAddedEvent, lateUser, {
      tenantId,
      userId: lateUser,
      email: `late-${randomUUID()}@example.test`,
      displayName: 'Late',
      role: 'member',
      invitationId: null,
      addedAt: new Date().toISOString(),
    });
    const consumers = new Set<string>();
    await waitFor(
      'billing, authorization and reporting to dead-letter it',
      async () => {
        const listed = await tenantry(
          {
            TENANTRY_API_URL: api,
            TENANTRY_OPERATOR_EMAIL: operatorEmail,
            TENANTRY_OPERATOR_PASSWORD: PASSWORD,
            KAFKA_BROKERS: stack.kafkaBrokers.join(','),
          },
          '--json',
          'dlq',
          'list',
          'identity.events',
          '--id',
          late,
        );
        const entries = (
          JSON.parse(listed || '{"entries":[]}') as {
            entries: { eventId: string; reason: string; consumer: string }[];
          }
        ).entries;
        for (const entry of entries) {
          expect(entry.reason).toMatch(/^tenant deleted/);
          consumers.add(entry.consumer);
        }
        return consumers.size >= 3 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect([...consumers].map((c) => c.replace(/^e2e-[a-z]+-[0-9a-f]+\./, '')).sort()).toEqual([
      'identity',
      'identity',
      'identity-policies',
    ]);
    // Nothing came back.
    await expectOnlyWhatTheAdrsAllow(tenantId, { identity: [MembershipAddedEvent.type] });
  });
});
