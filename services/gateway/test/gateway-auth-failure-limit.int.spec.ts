import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { GatewayHarness } from './support/gateway-harness';

const BURST = 5;

describe('gateway: failed authentications are limited per client address', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    // A refill slow enough that the test never sees a token come back.
    await harness.start({
      GATEWAY_AUTH_FAILURE_RPS: '0.01',
      GATEWAY_AUTH_FAILURE_BURST: String(BURST),
    });
  });

  afterAll(async () => {
    await harness.stop();
  });

  // The harness listens on loopback, a trusted hop: the address is the one it reports.
  const from = (address: string) => ({
    get: (headers: Record<string, string>) =>
      request(harness.url).get('/v1/me').set('x-forwarded-for', address).set(headers),
  });
  const randomKey = () =>
    `tnt_${randomBytes(4).toString('hex')}_${randomBytes(16).toString('hex')}`;

  it('refuses a flood of random API keys with 429 before identity is asked', async () => {
    const attacker = from('203.0.113.7');
    const before = harness.identity.internalCallers.length;
    for (let i = 0; i < BURST; i += 1) {
      expect((await attacker.get({ 'x-api-key': randomKey() })).status).toBe(401);
    }
    expect(harness.identity.internalCallers.length - before).toBe(BURST);

    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await attacker.get({ authorization: `Bearer ${randomKey()}` });
      statuses.push(response.status);
      if (i === 0) {
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({ status: 429 });
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(new Set(statuses)).toEqual(new Set([429]));
    // Not one more API-key lookup: identity's verify calls stopped growing.
    expect(harness.identity.internalCallers.length - before).toBe(BURST);
    // Random bearer tokens (not keys) are refused the same way.
    expect((await attacker.get({ authorization: 'Bearer not.a.jwt' })).status).toBe(429);
  });

  it('leaves valid credentials from other addresses alone', async () => {
    const user = await harness.identity.newUser();
    const { key } = harness.identity.newApiKey(user.tenantId);
    const response = await from('198.51.100.9').get({ 'x-api-key': key });
    expect(response.status).toBe(200);
    expect((await from('198.51.100.9').get({ authorization: `Bearer ${user.token}` })).status).toBe(
      200,
    );
  });

  it('does not charge an address for valid credentials', async () => {
    const user = await harness.identity.newUser();
    const client = from('198.51.100.20');
    for (let i = 0; i < BURST * 2; i += 1) {
      expect((await client.get({ authorization: `Bearer ${user.token}` })).status).toBe(200);
    }
    expect((await client.get({ 'x-api-key': randomKey() })).status).toBe(401);
  });
});
