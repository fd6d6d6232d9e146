import { randomUUID } from 'node:crypto';
import { withTenant } from '@tenantry/db';
import { IdentityTestHarness } from './support/identity-test-harness';
import type { SignedUpTenant } from './support/identity-test-harness';

interface AuditRow {
  tenant_id: string;
  actor_type: string;
  actor_id: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
}

describe('identity: operators record dead-letter replays (POST /v1/platform/dlq-replays)', () => {
  const h = new IdentityTestHarness();
  let a: SignedUpTenant;
  let b: SignedUpTenant;

  beforeAll(async () => {
    await h.setUp();
    [a, b] = [await h.signUp(), await h.signUp()];
  });
  afterAll(async () => {
    await h.tearDown();
  });

  /** The tenant's replay audit rows, read inside it (RLS is forced). */
  function replayAudit(tenantId: string): Promise<AuditRow[]> {
    return withTenant(h.service.deps.dataSource, tenantId, (tx) =>
      tx.manager.query(
        `SELECT tenant_id, actor_type, actor_id, target_type, target_id, details
         FROM audit_log WHERE action = 'dlq.replay-started' ORDER BY occurred_at`,
      ),
    );
  }

  const entry = (tenantId: string | undefined, eventType = 'identity.tenant.created') => {
    const eventId = randomUUID();
    return {
      entryId: `${eventId}@0:${Math.floor(Math.random() * 1e6)}`,
      eventId,
      eventType,
      tenantId,
    };
  };

  it('writes one audit row per tenant involved, the operator as actor, the replay id as target', async () => {
    const operatorId = await h.createOperator('support');
    const entries = [entry(a.tenantId), entry(b.tenantId), entry(a.tenantId, 'billing.x.y')];
    const filter = { eventTypes: ['identity.tenant.created', 'billing.x.y'] };
    const recorded = await h.asOperator(
      operatorId,
      h.http.post('/v1/platform/dlq-replays').send({ topic: 'identity.events', filter, entries }),
    );
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({
      operatorId,
      count: 3,
      tenants: expect.arrayContaining([
        { tenantId: a.tenantId, count: 2 },
        { tenantId: b.tenantId, count: 1 },
      ]),
    });
    const auditId = recorded.body.auditId as string;

    const [inA] = await replayAudit(a.tenantId);
    expect(inA).toEqual({
      tenant_id: a.tenantId,
      actor_type: 'operator',
      actor_id: operatorId,
      target_type: 'dlq-replay',
      target_id: auditId,
      details: {
        topic: 'identity.events',
        dlqTopic: 'identity.events.dlq',
        filter,
        count: 2,
        totalCount: 3,
        tenantCount: 2,
        entryIds: [entries[0]!.entryId, entries[2]!.entryId],
        eventIds: [entries[0]!.eventId, entries[2]!.eventId],
        eventTypes: ['identity.tenant.created', 'billing.x.y'],
      },
    });
    // Each tenant sees only its own entries of the replay.
    const inB = await replayAudit(b.tenantId);
    expect(inB).toHaveLength(1);
    expect(inB[0]).toMatchObject({
      target_id: auditId,
      details: { count: 1, entryIds: [entries[1]!.entryId] },
    });
  });

  it('records nothing and answers 422 for an entry without a tenant or of an unknown tenant', async () => {
    const operatorId = await h.createOperator('support');
    const before = (await replayAudit(a.tenantId)).length;
    const tenantless = entry(undefined);
    const noTenant = await h.asOperator(
      operatorId,
      h.http
        .post('/v1/platform/dlq-replays')
        .send({ topic: 'identity.events', filter: {}, entries: [entry(a.tenantId), tenantless] }),
    );
    expect(noTenant.status).toBe(422);
    expect(noTenant.body).toMatchObject({ entryIds: [tenantless.entryId] });
    const stranger = randomUUID();
    const unknown = await h.asOperator(
      operatorId,
      h.http.post('/v1/platform/dlq-replays').send({
        topic: 'identity.events',
        filter: {},
        entries: [entry(a.tenantId), entry(stranger)],
      }),
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ tenantIds: [stranger] });
    expect(await replayAudit(a.tenantId)).toHaveLength(before);
  });

  it('refuses tenant users (403) and malformed requests (400)', async () => {
    const asOwner = await h.asUser(
      a,
      a.userId,
      h.http
        .post('/v1/platform/dlq-replays')
        .send({ topic: 'identity.events', filter: {}, entries: [entry(a.tenantId)] }),
    );
    expect(asOwner.status).toBe(403);
    const operatorId = await h.createOperator('support');
    for (const body of [
      { topic: 'no spaces allowed', filter: {}, entries: [entry(a.tenantId)] },
      { topic: 'identity.events', filter: {}, entries: [] },
      { topic: 'identity.events', filter: { extra: 1 }, entries: [entry(a.tenantId)] },
      { topic: 'identity.events', entries: [entry(a.tenantId)] },
    ]) {
      const bad = await h.asOperator(
        operatorId,
        h.http.post('/v1/platform/dlq-replays').send(body),
      );
      expect([JSON.stringify(body), bad.status]).toEqual([JSON.stringify(body), 400]);
    }
  });

  it('checks the very permission each platform route declares in its OpenAPI operation', async () => {
    const document = await h.http.get('/openapi.json');
    const declared = (method: string, path: string) =>
      (document.body.paths[path][method] as { 'x-permission': string })['x-permission'];
    expect(declared('post', '/v1/platform/dlq-replays')).toBe('platform.dlq:replay');
    // A support operator lacks what only admins hold: the refusal names the declared permission.
    const support = await h.createOperator('support');
    for (const [method, path, route] of [
      ['delete', `/v1/platform/tenants/${b.tenantId}`, '/v1/platform/tenants/{tenantId}'],
      [
        'post',
        `/v1/platform/tenants/${b.tenantId}/cancel-deletion`,
        '/v1/platform/tenants/{tenantId}/cancel-deletion',
      ],
      ['post', '/v1/platform/signing-keys/rotate', '/v1/platform/signing-keys/rotate'],
    ] as const) {
      const refused = await h.asOperator(support, h.http[method](path));
      expect([path, refused.status]).toEqual([path, 403]);
      expect(refused.body.detail).toBe(`This needs the ${declared(method, route)} permission.`);
    }
  });
});
