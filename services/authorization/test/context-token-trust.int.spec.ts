import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { INTERNAL_AUTHZ_CHECK_PATH } from '@tenantry/contracts';
import { CONTEXT_TOKEN_ISSUER, CONTEXT_TOKEN_TYPE, signContextToken } from '@tenantry/tenancy';
import type { ContextTokenSigningKey, TenantContext } from '@tenantry/tenancy';
import { strangerContextTokenKeys } from '@tenantry/testing';
import { loadConfig } from '../src/config';
import type { AuthorizationServiceHandle } from '../src/authorization-service';
import type { TestTenant } from './support/authorization-test-bed';
import { AuthorizationTestBed } from './support/authorization-test-bed';

// Only the gateway can mint a context (ADR 0010): the service holds the gateway's public key
// only, and a token must be for this service.
describe('context tokens at the authorization service', () => {
  let bed: AuthorizationTestBed;
  let tenant: TestTenant;
  let service: AuthorizationServiceHandle;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    tenant = await bed.tenantWithEveryRole();
    // This instance reads its keys from the environment, as a deployed one does.
    const { contextKeys } = loadConfig({ ...bed.keys.serviceEnv, NODE_ENV: 'production' });
    service = await bed.startInstance({ contextKeys });
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  function contextOf(tenantId: string, userId: string): TenantContext {
    return { tenantId, actor: { type: 'user', id: userId }, requestId: `req-${randomUUID()}` };
  }

  async function callWith(token: string, path = '/v1/me/permissions'): Promise<request.Response> {
    return request(service.app).get(path).set('x-context-token', token);
  }

  function expectRefused(response: request.Response): void {
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401 });
  }

  const sign = (key: ContextTokenSigningKey, audience: string): Promise<string> =>
    signContextToken(contextOf(tenant.tenantId, tenant.ownerId), key, { audience });

  it('serves a context the gateway signed for authorization', async () => {
    const response = await callWith(await sign(bed.keys.signingKey, 'authorization'));
    expect(response.status).toBe(200);
    expect(response.body.roles).toEqual(['owner']);
  });

  it('refuses a context the gateway signed for identity', async () => {
    expectRefused(await callWith(await sign(bed.keys.signingKey, 'identity')));
    // Nor does the internal check route, which the gateway calls as a service.
    const forIdentity = await signContextToken(
      { tenantId: 'platform', actor: { type: 'service', id: 'gateway' }, requestId: randomUUID() },
      bed.keys.signingKey,
      { audience: 'identity' },
    );
    const internal = await request(service.app)
      .post(INTERNAL_AUTHZ_CHECK_PATH)
      .set('x-context-token', forIdentity)
      .send({
        tenantId: tenant.tenantId,
        subject: { type: 'user', id: tenant.ownerId },
        permissions: ['roles:assign'],
      });
    expectRefused(internal);
  });

  it('refuses a context signed with any other private key, even under the gateway’s kid', async () => {
    const stranger = strangerContextTokenKeys().signingKey;
    expectRefused(await callWith(await sign(stranger, 'authorization')));
    const impostor = { kid: bed.keys.signingKey.kid, privateKey: stranger.privateKey };
    expectRefused(await callWith(await sign(impostor, 'authorization')));
  });

  it('refuses HS256 keyed with the gateway’s public key (algorithm confusion)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      tid: tenant.tenantId,
      act: { type: 'user', id: tenant.ownerId },
      rid: 'req-hs256',
    })
      .setProtectedHeader({ alg: 'HS256', kid: bed.keys.signingKey.kid, typ: CONTEXT_TOKEN_TYPE })
      .setIssuer(CONTEXT_TOKEN_ISSUER)
      .setAudience('authorization')
      .setJti('req-hs256')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(new TextEncoder().encode(bed.keys.pair.publicKeyPem));
    expectRefused(await callWith(token));
  });
});
