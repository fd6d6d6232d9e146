import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { withTenant } from '@tenantry/db';
import { DeadLetterReplayer, createKafkaClient } from '@tenantry/events';
import { AuthorizationTestBed } from './support/authorization-test-bed';

describe('identity events drive assignments', () => {
  let bed: AuthorizationTestBed;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  async function inboxCount(eventId: string): Promise<number> {
    const rows = (await bed.service.dataSource.query(
      `SELECT count(*)::int AS n FROM event_inbox WHERE event_id = $1`,
      [eventId],
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  it('tenant created: built-in roles, and the creator is owner', async () => {
    const tenantId = randomUUID();
    const owner = `u-${randomUUID()}`;
    await bed.identity.tenantCreated(tenantId, owner);
    await bed.waitForRoles(tenantId, 'user', owner, ['owner']);
    const roles = await bed.call('get', '/v1/roles', tenantId, bed.asUser(owner));
    expect(roles.body.roles.map((r: { name: string }) => r.name)).toEqual([
      'admin',
      'billing-admin',
      'member',
      'owner',
      'viewer',
    ]);
  });

  it('a duplicate membership event yields one assignment', async () => {
    const tenantId = randomUUID();
    const user = `u-${randomUUID()}`;
    await bed.identity.tenantCreated(tenantId, `o-${randomUUID()}`);
    const added = await bed.identity.membershipAdded(tenantId, user, 'member');
    await bed.waitForRoles(tenantId, 'user', user, ['member']);

    // The same event again (at-least-once delivery) and an equal one with a new id.
    await bed.identity.redeliver(added.id);
    // Same key, so it is consumed after the redelivery.
    const again = await bed.identity.membershipAdded(tenantId, user, 'member');
    await waitFor('the equal event to reach both inboxes', async () =>
      (await inboxCount(again.id)) === 2 ? true : undefined,
    );
    // Each consumer (policies, audit) recorded the redelivered id once.
    expect(await inboxCount(added.id)).toBe(2);
    const rows = (await withTenant(bed.service.dataSource, tenantId, (tx) =>
      tx.manager.query(`SELECT role FROM role_assignments WHERE subject_id = $1`, [user]),
    )) as unknown[];
    expect(rows).toHaveLength(1);
  });

  it('a removal that overtakes its add leaves no assignment; a later add applies', async () => {
    const tenantId = randomUUID();
    const user = `u-${randomUUID()}`;
    await bed.identity.tenantCreated(tenantId, `o-${randomUUID()}`);
    const t0 = Date.now();
    await bed.identity.membershipRemoved(tenantId, user, new Date(t0 + 1000));
    await bed.identity.membershipAdded(tenantId, user, 'admin', new Date(t0));
    const marker = `u-${randomUUID()}`;
    await bed.identity.membershipAdded(tenantId, marker, 'viewer');
    await bed.waitForRoles(tenantId, 'user', marker, ['viewer']);
    // Both are in (the marker is on the same tenant; wait for the stale add itself too).
    await waitFor('both membership events handled', async () => {
      const rows = (await bed.service.dataSource.query(
        `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1 AND event_type LIKE 'identity.membership.%'
           AND consumer LIKE '%identity-policies'`,
        [tenantId],
      )) as { n: number }[];
      return rows[0]?.n === 3 ? true : undefined;
    });
    expect(await bed.rolesInDatabase(tenantId, 'user', user)).toEqual([]);

    await bed.identity.membershipAdded(tenantId, user, 'member', new Date(t0 + 2000));
    await bed.waitForRoles(tenantId, 'user', user, ['member']);
    await bed.identity.membershipRemoved(tenantId, user, new Date(t0 + 3000));
    await bed.waitForRoles(tenantId, 'user', user, []);
  });

  it('membership removed: every role of the user in that tenant goes, and only there', async () => {
    const [t1, t2] = [randomUUID(), randomUUID()];
    const owner = `o-${randomUUID()}`;
    const user = `u-${randomUUID()}`;
    await bed.identity.tenantCreated(t1, owner);
    await bed.identity.tenantCreated(t2, owner);
    await bed.identity.membershipAdded(t1, user, 'member');
    await bed.identity.membershipAdded(t2, user, 'viewer');
    await bed.waitForRoles(t1, 'user', user, ['member']);
    await bed.waitForRoles(t2, 'user', user, ['viewer']);
    const extra = await bed.call(
      'put',
      `/v1/role-assignments/user/${user}/roles/billing-admin`,
      t1,
      bed.asUser(owner),
    );
    expect(extra.status).toBe(200);
    await bed.identity.membershipRemoved(t1, user);
    await bed.waitForRoles(t1, 'user', user, []);
    expect(await bed.rolesInDatabase(t2, 'user', user)).toEqual(['viewer']);
  });

  it('API keys: created -> its role, revoked -> none; unknown roles fall back to viewer', async () => {
    const tenantId = randomUUID();
    const key = `key-${randomUUID()}`;
    await bed.identity.tenantCreated(tenantId, `o-${randomUUID()}`);
    await bed.identity.apiKeyCreated(tenantId, key, 'billing-admin');
    await bed.waitForRoles(tenantId, 'api_key', key, ['billing-admin']);
    const check = await bed.call(
      'post',
      '/v1/authz/check',
      tenantId,
      { type: 'api_key', id: key },
      {
        permission: 'billing.invoices:read',
      },
    );
    expect(check.body.allowed).toBe(true);
    await bed.identity.apiKeyRevoked(tenantId, key);
    await bed.waitForRoles(tenantId, 'api_key', key, []);

    const odd = `u-${randomUUID()}`;
    await bed.identity.membershipAdded(tenantId, odd, 'no-such-role');
    await bed.waitForRoles(tenantId, 'user', odd, ['viewer']);
  });

  it('tenant deleted: everything goes, and late events do not bring it back (later ones are refused)', async () => {
    const tenantId = randomUUID();
    const owner = `o-${randomUUID()}`;
    await bed.identity.tenantCreated(tenantId, owner);
    await bed.waitForRoles(tenantId, 'user', owner, ['owner']);
    await bed.identity.tenantDeleted(tenantId);
    await bed.waitForRoles(tenantId, 'user', owner, []);
    // From before the deletion, delivered after it (another key, another partition): dropped.
    const late = `u-${randomUUID()}`;
    await bed.identity.membershipAdded(tenantId, late, 'admin', new Date(Date.now() - 60_000));
    // From after the purge: refused, to the DLQ with the reason.
    const later = `u-${randomUUID()}`;
    const refused = await bed.identity.membershipAdded(tenantId, later, 'admin');
    const marker = randomUUID();
    await bed.identity.tenantCreated(marker, owner);
    await bed.waitForRoles(marker, 'user', owner, ['owner']);
    await waitFor('the late event handled', async () => {
      const rows = (await bed.service.dataSource.query(
        `SELECT 1 FROM event_inbox WHERE tenant_id = $1 AND event_type = 'identity.membership.added'
           AND consumer LIKE '%identity-policies'`,
        [tenantId],
      )) as unknown[];
      return rows.length === 1 ? true : undefined;
    });
    expect(await bed.rolesInDatabase(tenantId, 'user', late)).toEqual([]);
    const kafka = createKafkaClient({
      clientId: `dlq-${randomUUID()}`,
      brokers: bed.env.kafkaBrokers,
    });
    const entry = await waitFor(
      'the later event in the DLQ',
      async () =>
        (
          await new DeadLetterReplayer(kafka).list('identity.events', { eventIds: [refused.id] })
        ).find((e) => e.consumer?.endsWith('identity-policies')),
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(entry.reason).toMatch(/^tenant deleted: /);
    expect(await bed.rolesInDatabase(tenantId, 'user', later)).toEqual([]);
    const roles = (await withTenant(bed.service.dataSource, tenantId, (tx) =>
      tx.manager.query(`SELECT name FROM roles`),
    )) as unknown[];
    expect(roles).toEqual([]);
    const check = await bed.call('post', '/v1/authz/check', tenantId, bed.asUser(owner), {
      permission: 'tenant:read',
    });
    expect(check.body.allowed).toBe(false);
  });
});
