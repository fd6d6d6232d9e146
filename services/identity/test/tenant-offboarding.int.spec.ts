import { randomUUID } from 'node:crypto';
import {
  AuthorizationTenantPurgedEvent,
  ReportingTenantPurgedEvent,
  TenantBillingPurgedEvent,
} from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { Outbox } from '@tenantry/events';
import { runWithTenantContext } from '@tenantry/tenancy';
import { waitFor } from '@tenantry/testing';
import type { SignedUpTenant } from './support/identity-test-harness';
import { IdentityTestHarness } from './support/identity-test-harness';

const HOUR_MS = 3600 * 1000;

describe('identity: the tenant offboarding saga (grace period, purge, confirmations)', () => {
  const h = new IdentityTestHarness();
  let admin: string;
  let support: string;
  /** Stand-ins for the purging services: their real confirmation events, through Kafka. */
  const outboxes = new Map<string, Outbox>();

  beforeAll(async () => {
    await h.setUp({ TENANT_DELETION_GRACE_PERIOD: 'PT1H' });
    await h.codec.register([
      AuthorizationTenantPurgedEvent,
      TenantBillingPurgedEvent,
      ReportingTenantPurgedEvent,
    ]);
    for (const service of ['authorization', 'billing', 'reporting']) {
      outboxes.set(service, new Outbox(h.codec, `/services/${service}`));
    }
    admin = await h.createOperator('admin');
    support = await h.createOperator('support');
  });
  afterAll(() => h.tearDown());

  /** Writes a `<service>.tenant.purged` event as that service would (identity's relay sends it). */
  async function confirm(
    service: 'authorization' | 'billing' | 'reporting',
    tenantId: string,
  ): Promise<void> {
    const purgedAt = new Date().toISOString();
    const outbox = outboxes.get(service)!;
    const context = {
      tenantId,
      actor: { type: 'service' as const, id: service },
      requestId: randomUUID(),
    };
    await runWithTenantContext(context, () =>
      withTenant(h.service.deps.dataSource, tenantId, async (tx) => {
        if (service === 'authorization') {
          await outbox.publish(tx, AuthorizationTenantPurgedEvent, {
            subject: tenantId,
            data: { tenantId, auditRowsRedacted: 0, purgedAt },
          });
        } else if (service === 'billing') {
          await outbox.publish(tx, TenantBillingPurgedEvent, {
            subject: tenantId,
            data: { tenantId, finalInvoiceNumber: null, purgedAt },
          });
        } else {
          await outbox.publish(tx, ReportingTenantPurgedEvent, {
            subject: tenantId,
            data: { tenantId, purgedAt },
          });
        }
      }),
    );
  }

  const show = async (tenantId: string) =>
    (await h.asOperator(support, h.http.get(`/v1/platform/tenants/${tenantId}`))).body;

  const gatewayStatus = async (tenantId: string) =>
    (await h.asGateway(h.http.get(`/internal/v1/tenants/${tenantId}/status`))).body.status;

  const rowsOf = (tenantId: string) =>
    withTenant(h.service.deps.dataSource, tenantId, async (tx) =>
      tx.manager.query(
        `SELECT (SELECT count(*) FROM memberships)::int AS memberships,
                (SELECT count(*) FROM user_tenants WHERE tenant_id = $1)::int AS user_tenants`,
        [tenantId],
      ),
    );

  it('holds a deletion for its grace period, refusing the tenant like a suspended one, then purges it', async () => {
    const tenant = await h.signUp();
    const requested = await h.asOperator(
      admin,
      h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`),
    );
    expect(requested.status).toBe(200);
    const requestedAt = Date.parse(requested.body.deletionRequestedAt);
    expect(Date.parse(requested.body.purgeAfter) - requestedAt).toBe(HOUR_MS);
    expect(requested.body).toMatchObject({
      status: 'deleting',
      purgeStartedAt: null,
      confirmed: [],
      pending: ['authorization', 'billing', 'reporting'],
    });
    expect(await gatewayStatus(tenant.tenantId)).toBe('suspended');
    const login = await h.http
      .post('/v1/auth/token')
      .send({ email: tenant.email, password: tenant.password });
    expect(login.status).toBe(403);
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deletion-requested')).toHaveLength(1);

    // Not yet due: nothing starts, nothing is erased.
    expect((await h.service.purgeScheduler.tick()).started).not.toContain(tenant.tenantId);
    expect(await rowsOf(tenant.tenantId)).toEqual([{ memberships: 1, user_tenants: 1 }]);
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deleted')).toHaveLength(0);
    // Suspend and resume no longer apply; asking to delete again only says where it stands.
    const resume = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/resume`),
    );
    expect(resume.status).toBe(409);
    const again = await h.asOperator(
      admin,
      h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`),
    );
    expect(again.body.purgeAfter).toBe(requested.body.purgeAfter);

    h.advance(HOUR_MS);
    expect((await h.service.purgeScheduler.tick()).started).toContain(tenant.tenantId);
    expect(await rowsOf(tenant.tenantId)).toEqual([{ memberships: 0, user_tenants: 0 }]);
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deleted')).toHaveLength(1);
    expect(await gatewayStatus(tenant.tenantId)).toBe('deleted');
    const canceled = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/cancel-deletion`),
    );
    expect(canceled.status).toBe(409);
    // Owed by the three; a real service of another suite on the shared broker may have confirmed
    // already (each confirms every deletion it reads), so only the set owed is certain here.
    const owed = (await show(tenant.tenantId)).offboarding as {
      status: string;
      pending: string[];
      confirmed: { service: string }[];
    };
    expect(['purging', 'deleted']).toContain(owed.status);
    expect([...owed.confirmed.map((c) => c.service), ...owed.pending].sort()).toEqual([
      'authorization',
      'billing',
      'reporting',
    ]);
  });

  it('marks the tenant deleted once every service confirmed; repeated confirmations change nothing', async () => {
    const tenant = await h.signUp();
    await h.asOperator(admin, h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`));
    h.advance(HOUR_MS);
    await h.service.purgeScheduler.tick();

    await confirm('billing', tenant.tenantId);
    await confirm('authorization', tenant.tenantId);
    await confirm('billing', tenant.tenantId);
    const partial = await waitFor('billing and authorization confirmed', async () => {
      const body = await show(tenant.tenantId);
      const services = body.offboarding.confirmed.map((c: { service: string }) => c.service);
      return services.includes('authorization') && services.includes('billing') ? body : undefined;
    });
    // Unless another suite's reporting on the shared broker confirmed too, it is the one owed.
    if (partial.offboarding.pending.length > 0) {
      expect(partial.status).toBe('purging');
      expect(partial.offboarding.pending).toEqual(['reporting']);
    }

    await confirm('reporting', tenant.tenantId);
    const done = await waitFor('the deletion to complete', async () => {
      const body = await show(tenant.tenantId);
      return body.status === 'deleted' ? body : undefined;
    });
    expect(done.offboarding).toMatchObject({ status: 'deleted', pending: [] });
    expect(done.offboarding.deletedAt).toEqual(expect.any(String));
    const completed = await h.outbox(tenant.tenantId, 'identity.tenant.deletion-completed');
    expect(completed).toHaveLength(1);
    expect(await h.payloadOf(completed[0]!)).toMatchObject({
      tenantId: tenant.tenantId,
      confirmedBy: ['authorization', 'billing', 'reporting'],
    });

    // Late duplicates of every confirmation: handled (the inbox records them), nothing changes.
    for (const service of ['authorization', 'billing', 'reporting'] as const) {
      await confirm(service, tenant.tenantId);
    }
    await waitFor('the duplicates to be consumed', async () => {
      const [row] = (await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
        tx.manager.query(`SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1`, [
          tenant.tenantId,
        ]),
      )) as { n: number }[];
      return row && row.n >= 7 ? true : undefined;
    });
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deletion-completed')).toHaveLength(1);
    expect((await show(tenant.tenantId)).offboarding.deletedAt).toBe(done.offboarding.deletedAt);
  });

  it('lets an operator cancel within the grace period: the tenant gets its status back, nothing is erased', async () => {
    const tenant: SignedUpTenant = await h.signUp();
    const suspended = await h.asOperator(
      support,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/suspend`).send({ reason: 'unpaid' }),
    );
    expect(suspended.status).toBe(200);
    const notAllowed = await h.asOperator(
      support,
      h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`),
    );
    expect(notAllowed.status).toBe(403);
    await h.asOperator(admin, h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`));
    const canceled = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/cancel-deletion`),
    );
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'suspended', purgeAfter: null });
    expect((await show(tenant.tenantId)).offboarding).toBeNull();

    h.advance(2 * HOUR_MS);
    expect((await h.service.purgeScheduler.tick()).started).not.toContain(tenant.tenantId);
    expect(await rowsOf(tenant.tenantId)).toEqual([{ memberships: 1, user_tenants: 1 }]);
    expect(await h.outbox(tenant.tenantId, 'identity.tenant.deleted')).toHaveLength(0);
    const events = await h.outbox(tenant.tenantId, 'identity.tenant.deletion-canceled');
    expect(await h.payloadOf(events[0]!)).toMatchObject({ restoredStatus: 'suspended' });
    const audit = (await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(`SELECT action, actor_id FROM audit_log ORDER BY occurred_at`),
    )) as { action: string; actor_id: string }[];
    expect(audit.slice(-2)).toEqual([
      { action: 'tenant.deletion-requested', actor_id: admin },
      { action: 'tenant.deletion-canceled', actor_id: admin },
    ]);
    const twice = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/cancel-deletion`),
    );
    expect(twice.status).toBe(409);
  });

  it('lets an owner ask for the deletion of their tenant, naming its slug; admins may not', async () => {
    const tenant = await h.signUp();
    const admin2 = await h.addMember(tenant, 'admin');
    const asAdmin = await h.asUser(
      tenant,
      admin2.userId,
      h.http.post('/v1/tenants/current/deletion').send({ confirmSlug: tenant.tenantSlug }),
    );
    expect(asAdmin.status).toBe(403);
    const wrongSlug = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/tenants/current/deletion').send({ confirmSlug: 'not-it' }),
    );
    expect(wrongSlug.status).toBe(409);
    expect(await gatewayStatus(tenant.tenantId)).toBe('active');
    const requested = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/tenants/current/deletion').send({ confirmSlug: tenant.tenantSlug }),
    );
    expect(requested.status).toBe(200);
    expect(requested.body).toMatchObject({ status: 'deleting' });
    expect(
      Date.parse(requested.body.purgeAfter) - Date.parse(requested.body.deletionRequestedAt),
    ).toBe(HOUR_MS);
    expect(await gatewayStatus(tenant.tenantId)).toBe('suspended');
    const audit = (await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `SELECT actor_type, actor_id FROM audit_log WHERE action = 'tenant.deletion-requested'`,
      ),
    )) as { actor_type: string; actor_id: string }[];
    expect(audit).toEqual([{ actor_type: 'user', actor_id: tenant.userId }]);
    // The owner's credentials are refused from now on; an operator can still cancel.
    const again = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/tenants/current/deletion').send({ confirmSlug: tenant.tenantSlug }),
    );
    expect(again.status).toBe(403);
    const canceled = await h.asOperator(
      admin,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/cancel-deletion`),
    );
    expect(canceled.body).toMatchObject({ status: 'active' });
  });

  it('runs the purge on one replica at a time', async () => {
    const { TenantPurgeScheduler } = await import('../src/jobs/tenant-purge-scheduler');
    const second = new TenantPurgeScheduler({
      deps: h.service.deps,
      logger: h.service.logger,
      intervalMs: 60_000,
    });
    try {
      await h.service.purgeScheduler.tick();
      expect((await second.tick()).leader).toBe(false);
      await h.service.purgeScheduler.stop();
      expect((await second.tick()).leader).toBe(true);
    } finally {
      await second.stop();
    }
  });
});
