import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { tenantTablesWithoutRowLevelSecurity, withTenant } from '@tenantry/db';
import type { SignedUpTenant } from './support/identity-test-harness';
import { IdentityTestHarness } from './support/identity-test-harness';

/**
 * Tables with a tenant column that are not under row-level security on purpose, with the reason
 * recorded in docs/adr/0008. A new one must be added there and here, or get RLS.
 */
const DOCUMENTED_WITHOUT_RLS = [
  // libs/events' outbox and inbox: the relay and the inbox janitor work across tenants.
  'event_inbox',
  'event_outbox',
];

describe('identity: the audit log is append-only and every tenant table is under RLS', () => {
  const h = new IdentityTestHarness();
  let a: SignedUpTenant;
  let b: SignedUpTenant;

  beforeAll(async () => {
    await h.setUp();
    [a, b] = await Promise.all([h.signUp(), h.signUp()]);
  });
  afterAll(() => h.tearDown());

  /** A statement as identity's application role inside tenant `tenantId`; always rolled back. */
  async function asAppRole(tenantId: string, sql: string, params: unknown[] = []) {
    const client = new Client({ connectionString: h.db.appUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      return await client.query(sql, params);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  }

  async function auditRows(tenantId: string) {
    return withTenant(h.service.deps.dataSource, tenantId, (tx) =>
      tx.manager.query(`SELECT id, action, actor_id FROM audit_log ORDER BY occurred_at, id`),
    ) as Promise<{ id: string; action: string; actor_id: string }[]>;
  }

  it('refuses UPDATE, DELETE and TRUNCATE on audit_log as the application role', async () => {
    const before = await auditRows(a.tenantId);
    expect(before.length).toBeGreaterThan(0);
    await expect(
      asAppRole(a.tenantId, `UPDATE audit_log SET actor_id = 'someone-else'`),
    ).rejects.toThrow(/permission denied for table audit_log/);
    await expect(asAppRole(a.tenantId, `DELETE FROM audit_log`)).rejects.toThrow(
      /permission denied for table audit_log/,
    );
    await expect(asAppRole(a.tenantId, `TRUNCATE audit_log`)).rejects.toThrow(
      /permission denied for table audit_log/,
    );
    // The erasure setting opens nothing for the application role.
    await expect(
      asAppRole(
        a.tenantId,
        `WITH erasure AS (SELECT set_config('tenantry.audit_erasure', 'on', true))
         DELETE FROM audit_log WHERE EXISTS (SELECT 1 FROM erasure)`,
      ),
    ).rejects.toThrow(/permission denied for table audit_log/);
    expect(await auditRows(a.tenantId)).toEqual(before);
  });

  it('guards audit_log with the append-only trigger, which the application role cannot drop', async () => {
    await expect(
      asAppRole(a.tenantId, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`),
    ).rejects.toThrow(/must be owner/);
    const [trigger] = await h.service.deps.dataSource.query(
      `SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_log_append_only'`,
    );
    expect(trigger).toEqual({ tgenabled: 'O' });
  });

  it('still records audit entries through the normal path', async () => {
    const before = await auditRows(a.tenantId);
    const invited = await h.asUser(
      a,
      a.userId,
      h.http
        .post('/v1/invitations')
        .send({ email: `x-${randomUUID()}@example.com`, role: 'member' }),
    );
    expect(invited.status).toBe(201);
    const after = await auditRows(a.tenantId);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length)).toEqual([
      expect.objectContaining({ action: 'invitation.created', actor_id: a.userId }),
    ]);
  });

  it('has no tenant-column table without RLS beyond the documented allow-list', async () => {
    expect(await tenantTablesWithoutRowLevelSecurity(h.service.deps.dataSource)).toEqual(
      DOCUMENTED_WITHOUT_RLS,
    );
  });

  it('keeps the global lookups readable before login picks a tenant but writable only in their tenant', async () => {
    await expect(
      asAppRole(a.tenantId, `INSERT INTO user_tenants (user_id, tenant_id) VALUES ($1, $2)`, [
        a.userId,
        b.tenantId,
      ]),
    ).rejects.toThrow(/row-level security/);
    await expect(
      asAppRole(
        a.tenantId,
        `INSERT INTO api_key_prefixes (prefix, tenant_id, api_key_id) VALUES ($1, $2, $3)`,
        [`p${randomUUID().slice(0, 8)}`, b.tenantId, randomUUID()],
      ),
    ).rejects.toThrow(/row-level security/);
    const removed = await asAppRole(a.tenantId, `DELETE FROM user_tenants WHERE tenant_id = $1`, [
      b.tenantId,
    ]);
    expect(removed.rowCount).toBe(0);
    // Login reads user_tenants with no tenant set.
    expect((await h.logIn(b.email, b.password)).tenantId).toBe(b.tenantId);
  });
});
