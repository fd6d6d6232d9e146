import { createHash } from 'node:crypto';
import { withTenant } from '@tenantry/db';
import { IdentityTestHarness } from './support/identity-test-harness';

describe('identity: API keys and the gateway’s internal endpoints', () => {
  const h = new IdentityTestHarness();

  beforeAll(async () => {
    await h.setUp();
  });
  afterAll(() => h.tearDown());

  const verify = (key: string) =>
    h.asGateway(h.http.post('/internal/v1/api-keys/verify').send({ key }));

  it('creates a key shown once, verifies it for the gateway, and revokes it', async () => {
    const tenant = await h.signUp();
    const created = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/api-keys').send({ name: 'ci pipeline', role: 'member' }),
    );
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^tnt_[0-9a-f]{12}_[0-9A-Za-z]{32,}$/);
    expect(created.body.key.split('_')[1]).toBe(created.body.prefix);

    const secret = created.body.key.split('_')[2] as string;
    const [stored] = await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `SELECT encode(secret_hash, 'hex') AS hash, row_to_json(k)::text AS row
                        FROM api_keys k WHERE id = $1`,
        [created.body.apiKeyId],
      ),
    );
    expect(stored.hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(stored.row).not.toContain(secret);

    const listed = await h.asUser(tenant, tenant.userId, h.http.get('/v1/api-keys'));
    expect(listed.body.items[0]).toMatchObject({ prefix: created.body.prefix, lastUsedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key.split('_')[2]);

    const ok = await verify(created.body.key);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      apiKeyId: created.body.apiKeyId,
      tenantId: tenant.tenantId,
      role: 'member',
      expiresAt: null,
      tenantStatus: 'active',
    });
    const used = await h.asUser(
      tenant,
      tenant.userId,
      h.http.get(`/v1/api-keys/${created.body.apiKeyId}`),
    );
    expect(used.body.lastUsedAt).not.toBeNull();

    // The key acts as itself in its tenant.
    const me = await h.as(
      tenant.tenantId,
      { type: 'api_key', id: created.body.apiKeyId },
      h.http.get('/v1/me'),
    );
    expect(me.body).toMatchObject({ actorType: 'api_key', role: 'member' });

    const revoked = await h.asUser(
      tenant,
      tenant.userId,
      h.http.delete(`/v1/api-keys/${created.body.apiKeyId}`),
    );
    expect(revoked.status).toBe(204);
    const refused = await verify(created.body.key);
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    const meAfter = await h.as(
      tenant.tenantId,
      { type: 'api_key', id: created.body.apiKeyId },
      h.http.get('/v1/me'),
    );
    expect(meAfter.status).toBe(403);

    const events = (await h.outbox(tenant.tenantId)).map((row) => row.event_type);
    expect(events).toEqual(
      expect.arrayContaining(['identity.api-key.created', 'identity.api-key.revoked']),
    );
    const createdEvent = (await h.outbox(tenant.tenantId, 'identity.api-key.created'))[0]!;
    expect(JSON.stringify(await h.payloadOf(createdEvent))).not.toContain(
      created.body.key.split('_')[2],
    );
  });

  it('refuses a wrong secret, an unknown prefix, garbage and an expired key with 401', async () => {
    const tenant = await h.signUp();
    const created = await h.asUser(
      tenant,
      tenant.userId,
      h.http.post('/v1/api-keys').send({
        name: 'short-lived',
        role: 'viewer',
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      }),
    );
    expect(created.status).toBe(201);
    const [, prefix, secret] = created.body.key.split('_');
    const flipped = secret[0] === 'A' ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
    expect((await verify(`tnt_${prefix}_${flipped}`)).status).toBe(401);
    expect((await verify(`tnt_000000000000_${secret}`)).status).toBe(401);
    expect((await verify('not-a-key')).status).toBe(401);

    expect((await verify(created.body.key)).status).toBe(200);
    await withTenant(h.service.deps.dataSource, tenant.tenantId, (tx) =>
      tx.manager.query(
        `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [created.body.apiKeyId],
      ),
    );
    expect((await verify(created.body.key)).status).toBe(401);
    const listed = await h.asUser(
      tenant,
      tenant.userId,
      h.http.get(`/v1/api-keys/${created.body.apiKeyId}`),
    );
    expect(listed.body.status).toBe('expired');
  });

  it('serves internal routes to platform services only', async () => {
    const tenant = await h.signUp();
    const asUser = await h.asUser(
      tenant,
      tenant.userId,
      h.http.get(`/internal/v1/tenants/${tenant.tenantId}/status`),
    );
    expect(asUser.status).toBe(403);
    const asKey = await h.as(
      tenant.tenantId,
      { type: 'api_key', id: tenant.userId },
      h.http.post('/internal/v1/api-keys/verify').send({ key: 'tnt_x_y' }),
    );
    expect(asKey.status).toBe(403);
    const unsigned = await h.http.get(`/internal/v1/tenants/${tenant.tenantId}/status`);
    expect(unsigned.status).toBe(401);

    const status = await h.asGateway(h.http.get(`/internal/v1/tenants/${tenant.tenantId}/status`));
    expect(status.body).toEqual({ tenantId: tenant.tenantId, status: 'active' });
    const missing = await h.asGateway(
      h.http.get('/internal/v1/tenants/7d1f7c2e-3b5a-4c1d-9e8f-0a1b2c3d4e5f/status'),
    );
    expect(missing.status).toBe(404);
    expect((await h.asGateway(h.http.get('/internal/v1/tenants/nope/status'))).status).toBe(404);
  });
});
