import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { waitFor } from '@tenantry/testing';
import { AuthorizationTestBed } from './support/authorization-test-bed';
import type { TestTenant } from './support/authorization-test-bed';

interface Entry {
  id: string;
  action: string;
  target: string;
  actor: { type: string; id: string };
  requestId: string;
  before: unknown;
  after: unknown;
}

describe('audit log', () => {
  let bed: AuthorizationTestBed;
  let t: TestTenant;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    t = await bed.tenantWithEveryRole();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  async function page(query: string, actor = bed.asUser(t.users.admin)) {
    return bed.call('get', `/v1/audit-log${query}`, t.tenantId, actor);
  }

  it('records identity’s events and authorization’s own changes with actor, target and before/after', async () => {
    const entries = await waitFor('the membership events in the audit log', async () => {
      const response = await page('?action=identity.membership.added');
      return response.body.entries?.length === 4 ? (response.body.entries as Entry[]) : undefined;
    });
    expect(entries[0]).toMatchObject({
      actor: { type: 'user', id: 'identity-test-actor' },
      before: null,
      after: expect.objectContaining({ tenantId: t.tenantId }),
    });
    expect(entries[0]?.requestId).toMatch(/^req-/);

    const created = await bed.call('post', '/v1/roles', t.tenantId, bed.asUser(t.ownerId), {
      name: 'auditor',
      permissions: ['audit:read'],
    });
    expect(created.status).toBe(201);
    const own = await page('?action=authorization.role.created&target=role:auditor');
    expect(own.body.entries).toEqual([
      expect.objectContaining({
        actor: { type: 'user', id: t.ownerId },
        target: 'role:auditor',
        before: null,
        after: expect.objectContaining({ name: 'auditor', permissions: ['audit:read'] }),
      }),
    ]);
    const byActor = await page(`?actorId=${t.ownerId}&action=authorization.role.created`);
    expect(byActor.body.entries).toHaveLength(1);
  });

  it('is readable only with audit:read', async () => {
    for (const role of ['member', 'viewer', 'billing-admin'] as const) {
      expect((await page('', bed.asUser(t.users[role]))).status).toBe(403);
    }
    expect((await page('', bed.asUser(t.ownerId))).status).toBe(200);
    expect((await page('', bed.asUser(t.users.admin))).status).toBe(200);
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const owner = bed.asUser(t.ownerId);
    for (let i = 0; i < 5; i += 1) {
      await bed.call(
        'put',
        `/v1/role-assignments/user/${t.users.viewer}/roles/member`,
        t.tenantId,
        owner,
      );
      await bed.call(
        'delete',
        `/v1/role-assignments/user/${t.users.viewer}/roles/member`,
        t.tenantId,
        owner,
      );
    }
    const all = (await page('?limit=200')).body.entries as Entry[];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await page(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      seen.push(...(response.body.entries as Entry[]).map((e) => e.id));
      cursor = response.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((x, y) => y - x));

    const revoked = await page(`?action=authorization.role.revoked&target=user:${t.users.viewer}`);
    expect(revoked.body.entries).toHaveLength(5);
    expect((revoked.body.entries as Entry[])[0]?.before).toEqual({ role: 'member' });
    const future = await page(
      `?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.body.entries).toEqual([]);
    expect((await page('?cursor=bm9wZQ')).status).toBe(400);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE fail as the application role', async () => {
    const client = new Client({ connectionString: bed.db.appUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.tenantId]);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM audit_log`);
      expect(rows[0].n).toBeGreaterThan(0);
      await expect(client.query(`UPDATE audit_log SET actor_id = 'someone-else'`)).rejects.toThrow(
        /permission denied for table audit_log/,
      );
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.tenantId]);
      await expect(client.query(`DELETE FROM audit_log`)).rejects.toThrow(
        /permission denied for table audit_log/,
      );
      await client.query('ROLLBACK');
      await expect(client.query(`TRUNCATE audit_log`)).rejects.toThrow();
      await expect(
        client.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`),
      ).rejects.toThrow(/must be owner/);
    } finally {
      await client.end();
    }
    // Another tenant's actor sees none of it.
    const other = randomUUID();
    const stranger = await bed.call('get', '/v1/audit-log', other, bed.asUser(t.ownerId));
    expect(stranger.status).toBe(403);
  });
});
