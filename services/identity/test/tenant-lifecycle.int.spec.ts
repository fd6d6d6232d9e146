import { randomUUID } from 'node:crypto';
import { TenantDeletedEvent, TenantSuspendedEvent } from '@tenantry/contracts';
import type { EventEnvelope } from '@tenantry/events';
import { EventCodec, InboxConsumer, createKafkaClient } from '@tenantry/events';
import { waitFor } from '@tenantry/testing';
import { withTenant } from '@tenantry/db';
import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: tenant lifecycle and platform operators', () => {
  const h = new IdentityTestHarness();
  const consumed: EventEnvelope<unknown>[] = [];
  let consumer: InboxConsumer;

  beforeAll(async () => {
    await h.setUp();
    // Reads identity.events from Kafka as any other service would (through an inbox).
    const codec = new EventCodec(h.env.schemaRegistryUrl);
    consumer = new InboxConsumer({
      name: `identity-test-${randomUUID()}`,
      kafka: createKafkaClient({ clientId: 'identity-test', brokers: h.env.kafkaBrokers }),
      dataSource: h.service.deps.dataSource,
      codec,
    })
      .on(TenantSuspendedEvent, async (event) => {
        consumed.push(event);
      })
      .on(TenantDeletedEvent, async (event) => {
        consumed.push(event);
      });
    await consumer.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await h.tearDown();
  });

  it('lets an operator log in with an operator token that names no tenant', async () => {
    const email = `ops-${randomUUID()}@tenantry.dev`;
    const password = `pw-${randomUUID()}`;
    const { createOperator } = await import('../src/application/operators/create-operator');
    const created = await createOperator(h.service.deps.dataSource, h.service.deps.passwords, {
      email,
      password,
      role: 'support',
    });
    const login = await h.http.post('/v1/operators/token').send({ email, password });
    expect(login.status).toBe(200);
    const payload = JSON.parse(
      Buffer.from(login.body.accessToken.split('.')[1], 'base64url').toString(),
    );
    expect(payload).toMatchObject({ act: 'operator', sub: created.operatorId });
    expect(payload).not.toHaveProperty('tid');
    const wrong = await h.http.post('/v1/operators/token').send({ email, password: 'wrong one!' });
    expect(wrong.status).toBe(401);
  });

  it('lists tenants to operators in keyset pages, filtered by status; tenant users get 403', async () => {
    const operatorId = await h.createOperator('support');
    const mine = [await h.signUp(), await h.signUp(), await h.signUp()];
    const suspended = mine[1]!;
    await h.asOperator(
      operatorId,
      h.http.post(`/v1/platform/tenants/${suspended.tenantId}/suspend`).send({ reason: 'test' }),
    );
    // Walk every page of two: each tenant once, oldest first, ours among them.
    const seen: { tenantId: string; status: string; createdAt: string }[] = [];
    let after: string | null = null;
    do {
      const query: string = `?limit=2${after ? `&after=${after}` : ''}`;
      const page = await h.asOperator(operatorId, h.http.get(`/v1/platform/tenants${query}`));
      expect(page.status).toBe(200);
      expect(page.body.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.tenants);
      after = page.body.next as string | null;
    } while (after);
    const ids = seen.map((t) => t.tenantId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of mine) expect(ids).toContain(t.tenantId);
    const times = seen.map((t) => t.createdAt);
    expect([...times].sort()).toEqual(times);

    const onlySuspended = await h.asOperator(
      operatorId,
      h.http.get('/v1/platform/tenants?status=suspended&limit=500'),
    );
    const suspendedIds = onlySuspended.body.tenants.map((t: { tenantId: string }) => t.tenantId);
    expect(suspendedIds).toContain(suspended.tenantId);
    expect(suspendedIds).not.toContain(mine[0]!.tenantId);
    expect(
      onlySuspended.body.tenants.every((t: { status: string }) => t.status === 'suspended'),
    ).toBe(true);

    const badCursor = await h.asOperator(
      operatorId,
      h.http.get('/v1/platform/tenants?after=not-a-cursor'),
    );
    expect(badCursor.status).toBe(400);
    expect(badCursor.headers['content-type']).toMatch(/problem\+json/);
    const byUser = await h.asUser(mine[0]!, mine[0]!.userId, h.http.get('/v1/platform/tenants'));
    expect(byUser.status).toBe(403);
  });

  it('suspends a tenant: logins, refreshes and tenant routes get 403 until it is resumed', async () => {
    const tenant = await h.signUp();
    const session = await h.logIn(tenant.email, tenant.password);
    const operatorId = await h.createOperator('support');

    // Tenant users cannot use platform routes.
    const byUser = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/suspend`).send({}),
    );
    expect(byUser.status).toBe(403);

    const suspended = await h.asOperator(
      operatorId,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/suspend`).send({ reason: 'unpaid' }),
    );
    expect(suspended.status).toBe(200);
    expect(suspended.body).toEqual({ tenantId: tenant.tenantId, status: 'suspended' });

    const login = await h.http
      .post('/v1/auth/token')
      .send({ email: tenant.email, password: tenant.password });
    expect(login.status).toBe(403);
    const refresh = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: session.refreshToken });
    expect(refresh.status).toBe(403);
    const members = await h.asUser(tenant, tenant.userId, h.http.get('/v1/members'));
    expect(members.status).toBe(403);
    const status = await h.asGateway(h.http.get(`/internal/v1/tenants/${tenant.tenantId}/status`));
    expect(status.body.status).toBe('suspended');

    // The audit record names both identities: the operator, inside the tenant.
    const audit = await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `SELECT tenant_id, actor_type, actor_id, details FROM audit_log WHERE action = 'tenant.suspended'`,
      ),
    );
    expect(audit).toEqual([
      {
        tenant_id: tenant.tenantId,
        actor_type: 'operator',
        actor_id: operatorId,
        details: { reason: 'unpaid' },
      },
    ]);

    // The event reaches Kafka with the operator as actor.
    const event = await waitFor('the suspension event from Kafka', () =>
      consumed.find((e) => e.tenantid === tenant.tenantId && e.type === TenantSuspendedEvent.type),
    );
    expect(event).toMatchObject({
      actortype: 'operator',
      actorid: operatorId,
      data: { tenantId: tenant.tenantId, reason: 'unpaid' },
    });

    const resumed = await h.asOperator(
      operatorId,
      h.http.post(`/v1/platform/tenants/${tenant.tenantId}/resume`),
    );
    expect(resumed.body.status).toBe('active');
    // The refresh token was not spent by the refused attempt.
    const refreshAgain = await h.http
      .post('/v1/auth/refresh')
      .send({ refreshToken: session.refreshToken });
    expect(refreshAgain.status).toBe(200);
  });

  it('deletes a tenant as an admin operator: after the grace period identity purges its data and tells everyone', async () => {
    const tenant = await h.signUp();
    const member = await h.addMember(tenant, 'member');
    const key = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/api-keys').send({ name: 'etl', role: 'viewer' }),
    );
    const support = await h.createOperator('support');
    const admin = await h.createOperator('admin');

    const notAllowed = await h.asOperator(
      support,
      h.http.delete(`/v1/platform/tenants/${tenant.tenantId}`),
    );
    expect(notAllowed.status).toBe(403);

    // This harness's grace period is 0: the scheduler's next tick starts the purge.
    const deleted = await h.deleteTenant(admin, tenant.tenantId);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'deleting', pending: expect.any(Array) });
    const purging = await h.asOperator(
      admin,
      h.http.get(`/v1/platform/tenants/${tenant.tenantId}`),
    );
    expect(purging.body).toMatchObject({
      status: 'purging',
      offboarding: { pending: ['authorization', 'billing', 'reporting'], confirmed: [] },
    });

    const left = await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `SELECT (SELECT count(*) FROM memberships)::int AS memberships,
                (SELECT count(*) FROM api_keys)::int AS api_keys,
                (SELECT count(*) FROM invitations)::int AS invitations,
                (SELECT count(*) FROM refresh_tokens)::int AS refresh_tokens,
                (SELECT count(*) FROM users WHERE id = ANY($1::uuid[]))::int AS users`,
        [[tenant.userId, member.userId]],
      ),
    );
    expect(left).toEqual([
      { memberships: 0, api_keys: 0, invitations: 0, refresh_tokens: 0, users: 0 },
    ]);
    const verify = await h.asGateway(
      h.http.post('/internal/v1/api-keys/verify').send({ key: key.body.key }),
    );
    expect(verify.status).toBe(401);
    const status = await h.asGateway(h.http.get(`/internal/v1/tenants/${tenant.tenantId}/status`));
    expect(status.body.status).toBe('deleted');
    const login = await h.http
      .post('/v1/auth/token')
      .send({ email: tenant.email, password: tenant.password });
    expect(login.status).toBe(401);

    const erased = await h.outbox(tenant.tenantId, 'identity.user.deleted');
    const erasedIds = await Promise.all(erased.map(async (row) => (await h.payloadOf(row)).userId));
    expect(erasedIds.sort()).toEqual([tenant.userId, member.userId].sort());

    await waitFor('the deletion event from Kafka', () =>
      consumed.find((e) => e.tenantid === tenant.tenantId && e.type === TenantDeletedEvent.type),
    );
  });
});
