import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ERASED_MARKER, withTenant } from '@tenantry/db';
import { waitFor } from '@tenantry/testing';
import { eraseTenantPersonalData } from '../src/application/tenant-lifecycle/erase-tenant-personal-data';
import type { SignedUpTenant } from './support/identity-test-harness';
import { IdentityTestHarness } from './support/identity-test-harness';

interface Hit {
  readonly table: string;
  readonly column: string;
  readonly tenantId: string | null;
}

interface AuditRow {
  id: string;
  tenant_id: string;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string;
  correlation_id: string | null;
  occurred_at: Date;
  details: Record<string, unknown>;
}

const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

describe('identity: deleting a tenant erases its people’s personal data (ADR 0013)', () => {
  const h = new IdentityTestHarness();
  /** A superuser connection to the test database: sees every row, whatever RLS says. */
  let superuser: Client;
  let admin: string;
  let tenant: SignedUpTenant;
  let other: SignedUpTenant;
  const ownerName = unique('Olive Owner');
  const memberEmail = `${unique('member')}@example.com`;
  const memberName = unique('Mo Member');
  const inviteeEmail = `${unique('invitee')}@example.com`;
  const keyName = unique('laptop of Olive');
  const tenantName = unique('Olive Consulting');
  const sharedEmail = `${unique('shared')}@example.com`;
  const sharedName = unique('Sam Shared');
  const sharedPassword = `pw-${randomUUID()}`;
  let sharedUserId: string;
  let memberUserId: string;
  let auditBefore: AuditRow[];

  /** Every text, json and bytea column of every table in the database (none left out). */
  async function scan(needle: string): Promise<Hit[]> {
    const columns = (
      await superuser.query(
        `SELECT c.table_name, c.column_name, c.data_type,
                EXISTS (SELECT 1 FROM information_schema.columns t
                         WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name
                           AND t.column_name = 'tenant_id') AS has_tenant
           FROM information_schema.columns c
           JOIN information_schema.tables tb
             ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
          WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'
            AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb',
                                'bytea', 'ARRAY', 'USER-DEFINED')`,
      )
    ).rows as { table_name: string; column_name: string; data_type: string; has_tenant: boolean }[];
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(['users.email', 'audit_log.details', 'event_outbox.value']),
    );
    const hits: Hit[] = [];
    for (const c of columns) {
      const column = `"${c.column_name}"`;
      const match =
        c.data_type === 'bytea'
          ? `position(convert_to($1, 'UTF8') in ${column}) > 0`
          : `${column}::text ILIKE '%' || $1 || '%'`;
      const tenant = c.has_tenant ? 'tenant_id::text' : 'NULL';
      const { rows } = await superuser.query(
        `SELECT ${tenant} AS tenant_id FROM "${c.table_name}" WHERE ${match}`,
        [needle],
      );
      for (const row of rows as { tenant_id: string | null }[]) {
        hits.push({ table: c.table_name, column: c.column_name, tenantId: row.tenant_id });
      }
    }
    return hits;
  }

  async function auditRows(tenantId: string): Promise<AuditRow[]> {
    const { rows } = await superuser.query(
      `SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY occurred_at, id`,
      [tenantId],
    );
    return rows as AuditRow[];
  }

  async function invite(on: SignedUpTenant, email: string): Promise<string> {
    const invited = await h.asUser(
      on,
      on.userId,
      h.http.post('/v1/invitations').send({ email, role: 'member' }),
    );
    expect(invited.status).toBe(201);
    return invited.body.token as string;
  }

  async function accept(token: string, password: string, displayName: string): Promise<string> {
    const accepted = await h.http
      .post('/v1/invitations/accept')
      .send({ token, password, displayName });
    expect(accepted.status).toBe(201);
    return accepted.body.userId as string;
  }

  /** The deletion, and the purge that starts when its grace period (0 here) ended. */
  async function deleteAsAdmin(tenantId: string) {
    return h.deleteTenant(admin, tenantId);
  }

  beforeAll(async () => {
    await h.setUp();
    const url = new URL(h.env.databaseAdminUrl);
    url.pathname = `/${h.db.name}`;
    superuser = new Client({ connectionString: url.toString() });
    await superuser.connect();
    admin = await h.createOperator('admin');

    tenant = await h.signUp({ tenantName, displayName: ownerName });
    other = await h.signUp();
    memberUserId = await accept(
      await invite(tenant, memberEmail),
      `pw-${randomUUID()}`,
      memberName,
    );
    await invite(tenant, inviteeEmail); // never accepted
    // One person in both tenants: their account must survive the deletion of one of them.
    sharedUserId = await accept(await invite(other, sharedEmail), sharedPassword, sharedName);
    await accept(await invite(tenant, sharedEmail), sharedPassword, sharedName);
    const key = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/api-keys').send({ name: keyName, role: 'viewer' }),
    );
    expect(key.status).toBe(201);
    const suspend = await h.asOperator(
      admin,
      h.http
        .post(`/v1/platform/tenants/${tenant.tenantId}/suspend`)
        .send({ reason: `asked by ${tenant.email}` }),
    );
    expect(suspend.status).toBe(200);
    const resume = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/resume`),
    );
    expect(resume.status).toBe(200);
    await h.logIn(tenant.email, tenant.password);

    // Before: the personal data is really there, so the scans below can fail.
    expect(await scan(tenant.email)).toEqual(
      expect.arrayContaining([
        { table: 'users', column: 'email', tenantId: null },
        { table: 'audit_log', column: 'details', tenantId: tenant.tenantId },
        { table: 'event_outbox', column: 'value', tenantId: tenant.tenantId },
      ]),
    );
    expect(await scan(inviteeEmail)).toEqual(
      expect.arrayContaining([
        { table: 'invitations', column: 'email', tenantId: tenant.tenantId },
      ]),
    );
    expect(await scan(keyName)).toEqual(
      expect.arrayContaining([{ table: 'api_keys', column: 'name', tenantId: tenant.tenantId }]),
    );
    // Published copies of the tenant's events go with the erasure; wait until all are sent.
    await waitFor('the tenant’s events published', async () => {
      const { rows } = await superuser.query(
        `SELECT count(*)::int AS n FROM event_outbox WHERE tenant_id = $1 AND published_at IS NULL`,
        [tenant.tenantId],
      );
      return (rows[0] as { n: number }).n === 0 ? true : undefined;
    });
    auditBefore = await auditRows(tenant.tenantId);

    const deleted = await deleteAsAdmin(tenant.tenantId);
    expect(deleted.status).toBe(200);
  });

  afterAll(async () => {
    await superuser?.end();
    await h.tearDown();
  });

  it('leaves none of its people’s emails, names or free text anywhere in the database', async () => {
    for (const needle of [
      tenant.email,
      ownerName,
      memberEmail,
      memberName,
      inviteeEmail,
      keyName,
      tenantName,
      tenant.tenantSlug,
    ]) {
      expect({ needle, hits: await scan(needle) }).toEqual({ needle, hits: [] });
    }
  });

  it('keeps every audit row with its actor, action, target, request and time; only personal fields change', async () => {
    const after = await auditRows(tenant.tenantId);
    const strip = ({ details: _details, ...rest }: AuditRow) => rest;
    expect(after.slice(0, auditBefore.length).map(strip)).toEqual(auditBefore.map(strip));
    expect(after.slice(auditBefore.length).map((row) => row.action)).toEqual([
      'tenant.deletion-requested',
      'tenant.purge-started',
    ]);
    const invitations = after.filter((row) => row.action === 'invitation.created');
    expect(invitations).toHaveLength(3);
    for (const row of invitations) {
      expect(row.details).toEqual({ email: ERASED_MARKER, role: 'member' });
    }
    const key = after.find((row) => row.action === 'api-key.created');
    expect(key?.details).toEqual(
      expect.objectContaining({ name: ERASED_MARKER, role: 'viewer', prefix: expect.any(String) }),
    );
    expect(after.find((row) => row.action === 'tenant.suspended')?.details).toEqual({
      reason: ERASED_MARKER,
    });
  });

  it('keeps the account, email and name of a user who is also a member of another tenant', async () => {
    const { rows } = await superuser.query(`SELECT email, display_name FROM users WHERE id = $1`, [
      sharedUserId,
    ]);
    expect(rows).toEqual([{ email: sharedEmail, display_name: sharedName }]);
    // Still there in the other tenant's rows, gone from every row of the deleted one.
    const hits = await scan(sharedEmail);
    expect(hits).toEqual(
      expect.arrayContaining([{ table: 'users', column: 'email', tenantId: null }]),
    );
    expect(hits.filter((hit) => hit.tenantId === tenant.tenantId)).toEqual([]);
    expect((await h.logIn(sharedEmail, sharedPassword)).tenantId).toBe(other.tenantId);
    const { rows: gone } = await superuser.query(`SELECT id FROM users WHERE id = ANY($1)`, [
      [tenant.userId, memberUserId],
    ]);
    expect(gone).toEqual([]);
  });

  it('still refuses the application role any UPDATE or DELETE of audit rows, and erasure of a live tenant', async () => {
    const client = new Client({ connectionString: h.db.appUrl });
    await client.connect();
    try {
      for (const [tenantId, sql, refusal] of [
        [tenant.tenantId, `UPDATE audit_log SET details = '{}'`, /permission denied/],
        [tenant.tenantId, `DELETE FROM audit_log`, /permission denied/],
        [other.tenantId, `SELECT audit_log_erase_personal_data()`, /is not deleted/],
        ['', `SELECT audit_log_erase_personal_data()`, /needs a tenant transaction/],
      ] as const) {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
        await expect(client.query(sql)).rejects.toThrow(refusal);
        await client.query('ROLLBACK');
      }
    } finally {
      await client.end();
    }
    expect((await auditRows(other.tenantId)).map((row) => row.details)).toEqual(
      expect.arrayContaining([{ email: sharedEmail, role: 'member' }]),
    );
  });

  it('is harmless to repeat: a second deletion or erasure changes nothing', async () => {
    const before = await auditRows(tenant.tenantId);
    const again = await deleteAsAdmin(tenant.tenantId);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('purging');
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deleted')).toHaveLength(1);
    const erased = await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      eraseTenantPersonalData(tx),
    );
    expect(erased).toEqual(expect.objectContaining({ erasedUserIds: [], auditRowsRedacted: 0 }));
    expect(await auditRows(tenant.tenantId)).toEqual(before);
  });
});
