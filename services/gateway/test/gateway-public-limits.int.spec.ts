import request from 'supertest';
import { GatewayHarness } from './support/gateway-harness';

describe('gateway: unauthenticated calls are limited per client address', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    await harness.start({ PUBLIC_RATE_LIMIT_RPS: '1', PUBLIC_RATE_LIMIT_BURST: '5' });
  });

  afterAll(async () => {
    await harness.stop();
  });

  it('answers 429 with Retry-After to a flood of sign-ups from one address, not to reads', async () => {
    const flood = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        request(harness.url)
          .post('/v1/signup')
          .send({ email: `flood-${i}@example.test` }),
      ),
    );
    const limited = flood.filter((response) => response.status === 429);
    // Burst 5 plus what refills at 1/s while the flood is in flight on a busy machine.
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(limited[0]?.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited[0]?.headers['content-type']).toMatch(/problem\+json/);
    // Reading the JWKS is public too, but costs nothing to serve and is not counted.
    const jwks = await Promise.all(
      Array.from({ length: 10 }, () => request(harness.url).get('/.well-known/jwks.json')),
    );
    expect(jwks.every((response) => response.status === 200)).toBe(true);
  });

  it('limits the address the trusted proxy reports, not the proxy itself', async () => {
    // The harness listens on loopback, which GATEWAY_TRUST_PROXY trusts by default.
    const fromElsewhere = await request(harness.url)
      .post('/v1/signup')
      .set('x-forwarded-for', '203.0.113.7')
      .send({ email: 'someone@example.test' });
    expect(fromElsewhere.status).not.toBe(429);
  });
});
