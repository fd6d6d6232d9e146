import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ERASED_MARKER, withTenant } from '@tenantry/db';
import { waitFor } from '@tenantry/testing';
import { eraseTenantPersonalData } from '../src/application/erase-personal-data/erase-tenant-personal-data';
import { AuthorizationTestBed } from './support/authorization-test-bed';

interface AuditRow {
  id: string;
  tenant_id: string;
  event_id: string;
  occurred_at: Date;
  recorded_at: Date;
  actor_type: string;
  actor_id: string;
  action: string;
  target: string;
  request_id: string;
  source: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('authorization: identity.tenant.deleted erases personal data from the audit log (ADR 0013)', () => {
  let bed: AuthorizationTestBed;
  /** A superuser connection to the test database: sees every row, whatever RLS says. */
  let superuser: Client;
  const tenantId = randomUUID();
  const otherTenantId = randomUUID();
  const owner = `owner-${randomUUID()}`;
  const member = `member-${randomUUID()}`;
  const otherMember = `other-${randomUUID()}`;
  const emailOf = (userId: string) => `${userId}@example.test`;
  let deletedEventId: string;

  async function auditRows(tenant: string): Promise<AuditRow[]> {
    const { rows } = await superuser.query(
      `SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY id`,
      [tenant],
    );
    return rows as AuditRow[];
  }

  /** Audit rows (any tenant) whose text anywhere contains `needle`. */
  async function rowsMentioning(needle: string): Promise<{ tenant_id: string }[]> {
    const { rows } = await superuser.query(
      `SELECT tenant_id FROM audit_log WHERE audit_log::text ILIKE '%' || $1 || '%'`,
      [needle],
    );
    return rows as { tenant_id: string }[];
  }

  async function inboxHas(eventType: string, consumerSuffix: string, tenant: string) {
    const rows = (await bed.service.dataSource.query(
      `SELECT 1 FROM event_inbox WHERE tenant_id = $1 AND event_type = $2 AND consumer LIKE $3`,
      [tenant, eventType, `%${consumerSuffix}`],
    )) as unknown[];
    return rows.length;
  }

  const nonPersonal = ({ before: _before, after: _after, ...rest }: AuditRow) => rest;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    const url = new URL(bed.env.databaseAdminUrl);
    url.pathname = `/${bed.db.name}`;
    superuser = new Client({ connectionString: url.toString() });
    await superuser.connect();

    await bed.identity.tenantCreated(tenantId, owner);
    await bed.identity.membershipAdded(tenantId, member, 'member');
    await bed.identity.apiKeyCreated(tenantId, randomUUID(), 'viewer');
    await bed.identity.tenantCreated(otherTenantId, otherMember);
    await bed.waitForRoles(tenantId, 'user', member, ['member']);
    // The owner's assignment too: events of one tenant may be applied in any order across keys.
    await bed.waitForRoles(tenantId, 'user', owner, ['owner']);
    // Authorization's own record: role names and permissions, no personal data.
    const created = await bed.call('post', '/v1/roles', tenantId, bed.asUser(owner), {
      name: 'auditor',
      permissions: ['audit:read'],
    });
    expect(created.status).toBe(201);
    await waitFor('identity’s events in the audit log', async () =>
      (await inboxHas('identity.api-key.created', '.audit', tenantId)) === 1 &&
      (await inboxHas('identity.tenant.created', '.audit', otherTenantId)) === 1
        ? true
        : undefined,
    );
    // Before: the personal data is really there, so the checks below can fail.
    expect(await rowsMentioning(emailOf(owner))).toHaveLength(1);
    expect(await rowsMentioning(emailOf(member))).toHaveLength(1);
  });

  afterAll(async () => {
    await superuser?.end();
    await bed?.tearDown();
  });

  it('redacts emails and names in the tenant’s audit rows and keeps every other column', async () => {
    const before = await auditRows(tenantId);
    deletedEventId = (await bed.identity.tenantDeleted(tenantId)).id;
    await waitFor('the tenant’s audit rows redacted', async () =>
      (await rowsMentioning(emailOf(member))).length === 0 &&
      (await rowsMentioning(emailOf(owner))).length === 0
        ? true
        : undefined,
    );
    const after = await auditRows(tenantId);
    expect(after.slice(0, before.length).map(nonPersonal)).toEqual(before.map(nonPersonal));
    const find = (action: string) => after.find((row) => row.action === action);
    expect(find('identity.tenant.created')?.after).toEqual(
      expect.objectContaining({
        tenantId,
        ownerUserId: owner,
        ownerEmail: ERASED_MARKER,
        name: ERASED_MARKER,
        slug: ERASED_MARKER,
        plan: 'free',
      }),
    );
    expect(find('identity.membership.added')?.after).toEqual(
      expect.objectContaining({
        userId: member,
        email: ERASED_MARKER,
        displayName: ERASED_MARKER,
        role: 'member',
      }),
    );
    expect(find('identity.api-key.created')?.after).toEqual(
      expect.objectContaining({ name: ERASED_MARKER, role: 'viewer' }),
    );
    expect(find('authorization.role.created')?.after).toEqual(
      expect.objectContaining({ name: 'auditor', permissions: ['audit:read'] }),
    );
    // Another tenant's rows keep theirs.
    expect(await rowsMentioning(emailOf(otherMember))).toEqual([{ tenant_id: otherTenantId }]);
  });

  it('redacts an identity event of the deleted tenant that is recorded late', async () => {
    const late = `late-${randomUUID()}`;
    await bed.identity.membershipAdded(tenantId, late, 'admin');
    await waitFor('the late event in the audit log', async () =>
      (await inboxHas('identity.membership.added', '.audit', tenantId)) === 2 ? true : undefined,
    );
    const row = (await auditRows(tenantId)).find((r) => r.after?.['userId'] === late);
    expect(row?.after).toEqual(
      expect.objectContaining({ userId: late, email: ERASED_MARKER, role: 'admin' }),
    );
    expect(await rowsMentioning(emailOf(late))).toEqual([]);
  });

  it('is harmless when the deletion arrives again or the erasure runs again', async () => {
    const before = await auditRows(tenantId);
    await bed.identity.redeliver(deletedEventId);
    // Gives the redelivery time to arrive and shows the consumers still work; the inbox keeps
    // one row per consumer and event, so it was handled once.
    const marker = randomUUID();
    await bed.identity.tenantCreated(marker, owner);
    await bed.waitForRoles(marker, 'user', owner, ['owner']);
    expect(await inboxHas('identity.tenant.deleted', '.identity-policies', tenantId)).toBe(1);
    const again = await withTenant(bed.service.dataSource, tenantId, (tx) =>
      eraseTenantPersonalData(tx),
    );
    expect(again).toBe(0);
    expect(await auditRows(tenantId)).toEqual(before);
  });

  it('refuses the erasure of a live tenant, and the application role any UPDATE or DELETE', async () => {
    const client = new Client({ connectionString: bed.db.appUrl });
    await client.connect();
    try {
      for (const [tenant, sql, refusal] of [
        [otherTenantId, `SELECT audit_log_erase_personal_data()`, /is not deleted/],
        [tenantId, `UPDATE audit_log SET after = NULL`, /permission denied/],
        [tenantId, `DELETE FROM audit_log`, /permission denied/],
      ] as const) {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        await expect(client.query(sql)).rejects.toThrow(refusal);
        await client.query('ROLLBACK');
      }
    } finally {
      await client.end();
    }
    expect(await rowsMentioning(emailOf(otherMember))).toEqual([{ tenant_id: otherTenantId }]);
  });
});
