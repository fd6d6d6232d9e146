import { createPublicKey, randomUUID } from 'node:crypto';
import request from 'supertest';
import { SignJWT, generateKeyPair } from 'jose';
import { waitFor } from '@tenantry/testing';
import type { EchoedRequest } from './support/fake-identity';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: authentication at the edge', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    await harness.start();
  });

  afterAll(async () => {
    await harness.stop();
  });

  const get = (token: string) =>
    request(harness.url).get('/v1/me').set('authorization', `Bearer ${token}`);

  async function expectRefused(token: string): Promise<void> {
    const echoedBefore = harness.identity.echoed;
    const response = await get(token);
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 401,
      type: expect.stringMatching(/unauthorized$/),
    });
    // One answer for every failure: the client learns nothing about why.
    expect(response.body.detail).toBe('A valid bearer token or API key is required.');
    expect(harness.identity.echoed).toBe(echoedBefore);
  }

  it('forwards a valid user token with its verified tenant and actor', async () => {
    const user = await harness.identity.newUser();
    const response = await get(user.token);
    expect(response.status).toBe(200);
    const echoed = response.body as EchoedRequest;
    expect(echoed.context).toEqual({
      tenantId: user.tenantId,
      actor: { type: 'user', id: user.userId },
      requestId: response.headers['x-request-id'],
    });
    expect(echoed.headers).toMatchObject({
      'x-tenant-id': user.tenantId,
      'x-actor-type': 'user',
      'x-actor-id': user.userId,
      'x-request-id': response.headers['x-request-id'],
    });
    expect(echoed.headers.authorization).toBeUndefined();
    expect(echoed.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    // The upstream's echo of a context token never reaches the client.
    expect(response.headers['x-context-token']).toBeUndefined();
  });

  it('refuses requests without a credential', async () => {
    const response = await request(harness.url).get('/v1/me');
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const user = await harness.identity.newUser();
    const [, payload] = user.token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await expectRefused(`${header}.${payload}.`);
  });

  it('refuses HS256 signed with identity’s public key (algorithm confusion)', async () => {
    const user = await harness.identity.newUser();
    const [kid] = [...harness.identity.keys.keys()];
    const publicJwk = harness.identity.publicJwk(kid as string);
    const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({
      iss: 'tenantry-identity',
      aud: 'tenantry-api',
      act: 'user',
      sub: user.userId,
      tid: user.tenantId,
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + 300,
    })
      .setProtectedHeader({ alg: 'HS256', kid: kid as string })
      .sign(new TextEncoder().encode(pem));
    await expectRefused(forged);
  });

  it('refuses a token signed by a key identity never published (unknown kid)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const user = await harness.identity.newUser();
    await expectRefused(
      await harness.identity.accessToken(
        { sub: user.userId, tid: user.tenantId },
        { kid: `stranger-${randomUUID()}`, privateKey },
      ),
    );
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const user = await harness.identity.newUser();
    await expectRefused(
      await harness.identity.accessToken({ sub: user.userId, tid: user.tenantId }, { privateKey }),
    );
  });

  it('refuses expired tokens, tokens not yet valid, and wrong issuer or audience', async () => {
    const user = await harness.identity.newUser();
    const base = { sub: user.userId, tid: user.tenantId };
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      await harness.identity.accessToken({
        ...base,
        iat: now - 600,
        nbf: now - 600,
        exp: now - 60,
      }),
    );
    await expectRefused(await harness.identity.accessToken({ ...base, nbf: now + 300 }));
    await expectRefused(await harness.identity.accessToken({ ...base, iss: 'someone-else' }));
    await expectRefused(await harness.identity.accessToken({ ...base, aud: 'another-api' }));
    await expectRefused(await harness.identity.accessToken({ ...base, act: 'root' }));
    const { tid: _omit, ...withoutTenant } = base;
    await expectRefused(await harness.identity.accessToken(withoutTenant));
  });

  it('refuses a tampered payload', async () => {
    const user = await harness.identity.newUser();
    const victim = await harness.identity.newUser();
    const [header, payload, signature] = user.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = Buffer.from(JSON.stringify({ ...claims, tid: victim.tenantId })).toString(
      'base64url',
    );
    await expectRefused(`${header}.${tampered}.${signature}`);
  });

  it('accepts a newly rotated-in key at once and refuses tokens of a deleted key', async () => {
    const kid = await harness.identity.addSigningKey();
    const user = await harness.identity.newUser();
    const token = await harness.identity.accessToken(
      { sub: user.userId, tid: user.tenantId },
      { kid },
    );
    // Unknown to the gateway's cached key set: fetched again on the unknown kid.
    await waitFor('the new key to be accepted', async () => (await get(token)).status === 200, {
      timeoutMs: 5000,
    });

    harness.identity.removeSigningKey(kid);
    await waitFor('the deleted key to be refused', async () => (await get(token)).status === 401, {
      timeoutMs: 10_000,
    });
    await expectRefused(token);
  });

  it('verifies API keys with identity, as bearer or x-api-key, and honours revocation', async () => {
    const user = await harness.identity.newUser();
    const { key, apiKeyId } = harness.identity.newApiKey(user.tenantId);
    for (const response of [
      await request(harness.url).get('/v1/me').set('authorization', `Bearer ${key}`),
      await request(harness.url).get('/v1/me').set('x-api-key', key),
    ]) {
      expect(response.status).toBe(200);
      expect((response.body as EchoedRequest).context).toMatchObject({
        tenantId: user.tenantId,
        actor: { type: 'api_key', id: apiKeyId },
      });
      expect((response.body as EchoedRequest).headers['x-api-key']).toBeUndefined();
    }
    // identity saw the gateway as the platform's service actor, with a valid context token.
    expect(harness.identity.internalCallers.at(-1)).toMatchObject({
      tenantId: 'platform',
      actor: { type: 'service', id: 'gateway' },
    });

    harness.identity.apiKeys.delete(key);
    await waitFor(
      'the revoked key to be refused',
      async () => (await request(harness.url).get('/v1/me').set('x-api-key', key)).status === 401,
      { timeoutMs: 5000 },
    );
  });

  it('refuses unknown, malformed, expired and doubled API keys', async () => {
    const user = await harness.identity.newUser();
    const expired = harness.identity.newApiKey(
      user.tenantId,
      new Date(Date.now() - 1000).toISOString(),
    );
    const valid = harness.identity.newApiKey(user.tenantId);
    for (const key of [`tnt_abc_${randomUUID()}`, 'tnt_', expired.key]) {
      const response = await request(harness.url).get('/v1/me').set('x-api-key', key);
      expect(response.status).toBe(401);
    }
    const both = await request(harness.url)
      .get('/v1/me')
      .set('x-api-key', valid.key)
      .set('authorization', `Bearer ${user.token}`);
    expect(both.status).toBe(401);
  });

  it('refuses suspended and deleted tenants with 403, and serves them again once active', async () => {
    const user = await harness.identity.newUser();
    expect((await get(user.token)).status).toBe(200);
    harness.identity.tenantStatus.set(user.tenantId, 'suspended');
    const refused = await waitFor('the suspension to take effect', async () => {
      const response = await get(user.token);
      return response.status === 403 ? response : undefined;
    });
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.type).toMatch(/tenant-suspended$/);

    const { key } = harness.identity.newApiKey(user.tenantId);
    expect((await request(harness.url).get('/v1/me').set('x-api-key', key)).status).toBe(403);

    harness.identity.tenantStatus.set(user.tenantId, 'deleted');
    await waitFor('deletion to be refused', async () => {
      const response = await get(user.token);
      return response.status === 403 && /tenant-inactive$/.test(response.body.type);
    });
    harness.identity.tenantStatus.set(user.tenantId, 'active');
    await waitFor(
      'the tenant to be served again',
      async () => (await get(user.token)).status === 200,
    );
  });

  it('stamps an operator acting inside a named tenant, and ignores that header from users', async () => {
    const operatorId = `op-${randomUUID()}`;
    const tenantId = `t-${randomUUID()}`;
    const operatorToken = await harness.identity.accessToken({ act: 'operator', sub: operatorId });
    const inside = await request(harness.url)
      .get('/v1/tenants/x')
      .set('authorization', `Bearer ${operatorToken}`)
      .set('x-operator-tenant', tenantId);
    expect(inside.status).toBe(200);
    expect((inside.body as EchoedRequest).context).toMatchObject({
      tenantId,
      actor: { type: 'operator', id: operatorId },
    });
    expect((inside.body as EchoedRequest).headers['x-operator-tenant']).toBeUndefined();

    const outside = await request(harness.url)
      .get('/v1/operators/me')
      .set('authorization', `Bearer ${operatorToken}`);
    expect((outside.body as EchoedRequest).context).toMatchObject({
      tenantId: 'platform',
      actor: { type: 'operator', id: operatorId },
    });

    const user = await harness.identity.newUser();
    const asUser = await get(user.token).set('x-operator-tenant', tenantId);
    expect((asUser.body as EchoedRequest).context?.tenantId).toBe(user.tenantId);

    // An operator token that also names a tenant of its own is not an operator token.
    const confused = await harness.identity.accessToken({
      act: 'operator',
      sub: operatorId,
      tid: tenantId,
    });
    expect((await get(confused)).status).toBe(401);
  });
});
