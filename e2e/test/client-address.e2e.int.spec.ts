import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';

const PER_IP = 3;
const PASSWORD = 'correct horse battery staple';

/**
 * A login through the gateway from a chosen local address: 127.0.0.1 is the trusted proxy hop,
 * 127.0.0.2 (also loopback on Linux, so no traffic leaves the host) is a client the gateway does
 * not trust. `forwardedFor` is a header value only.
 */
function logIn(
  gatewayUrl: string,
  body: { email: string; password: string },
  via: { localAddress: '127.0.0.1' | '127.0.0.2'; forwardedFor?: string },
): Promise<number> {
  const url = new URL('/v1/auth/token', gatewayUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: via.localAddress,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(via.forwardedFor ? { 'x-forwarded-for': via.forwardedFor } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('client addresses across the trust boundary (gateway -> identity)', () => {
  // The gateway trusts only 127.0.0.1 as a proxy hop; identity trusts the gateway (loopback).
  const platform = new E2ePlatform({ gatewayTrustProxy: '127.0.0.1', loginFailuresPerIp: PER_IP });
  const email = `owner-${randomUUID()}@example.test`;

  beforeAll(async () => {
    await platform.start();
    const signedUp = await call(platform.gatewayUrl, 'POST', '/v1/signup', {
      body: {
        tenantName: `T ${randomUUID().slice(0, 6)}`,
        email,
        password: PASSWORD,
        displayName: 'O',
      },
    });
    expect(signedUp.status).toBe(201);
  });

  afterAll(async () => {
    await platform.stop();
  });

  const wrong = () => ({ email, password: `guess-${randomUUID()}` });
  const proxied = (forwardedFor: string) => ({ localAddress: '127.0.0.1' as const, forwardedFor });

  it('limits each client behind a trusted proxy on its own budget', async () => {
    for (let i = 0; i < PER_IP; i += 1) {
      expect(await logIn(platform.gatewayUrl, wrong(), proxied('203.0.113.7'))).toBe(401);
    }
    expect(await logIn(platform.gatewayUrl, wrong(), proxied('203.0.113.7'))).toBe(429);

    // Another client behind the same hop: its own budget, so its wrong password is just wrong...
    expect(
      await logIn(
        platform.gatewayUrl,
        { email: `nobody-${randomUUID()}@example.test`, password: 'nope' },
        proxied('198.51.100.9'),
      ),
    ).toBe(401);
    // ...and the account's owner signs in from there.
    expect(
      await logIn(platform.gatewayUrl, { email, password: PASSWORD }, proxied('198.51.100.9')),
    ).toBe(200);
  });

  it('replaces X-Forwarded-For from a hop it does not trust with the socket peer', async () => {
    // Control: through the trusted hop 203.0.113.7 is spent (already, when run after the above).
    for (let i = 0; i < PER_IP; i += 1)
      await logIn(platform.gatewayUrl, wrong(), proxied('203.0.113.7'));
    expect(await logIn(platform.gatewayUrl, wrong(), proxied('203.0.113.7'))).toBe(429);
    // An untrusted client naming the spent address is counted as itself (127.0.0.2) instead.
    const direct = { localAddress: '127.0.0.2' as const, forwardedFor: '203.0.113.7' };
    expect(await logIn(platform.gatewayUrl, wrong(), direct)).toBe(401);
    // Nor can it escape its own budget by naming fresh addresses.
    for (let i = 1; i < PER_IP; i += 1) {
      const fresh = { ...direct, forwardedFor: `198.51.100.${100 + i}` };
      expect(await logIn(platform.gatewayUrl, wrong(), fresh)).toBe(401);
    }
    const fresh = { ...direct, forwardedFor: '198.51.100.200' };
    expect(await logIn(platform.gatewayUrl, wrong(), fresh)).toBe(429);
  });
});
