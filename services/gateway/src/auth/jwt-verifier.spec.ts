import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { KeyLike } from 'jose';
import type * as Jose from 'jose';
import { InvalidAccessTokenError, JwtVerifier } from './jwt-verifier';

// Counts the signature checks while keeping jose's own verification.
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof Jose>('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
const jwtVerify = jose.jwtVerify as jest.MockedFunction<typeof jose.jwtVerify>;

const KID = 'key-1';
let server: Server;
let jwksUrl: string;
let privateKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'ES256', use: 'sig' }],
  });
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

afterEach(() => {
  jest.restoreAllMocks();
  jwtVerify.mockClear();
});

function verifier(revoked: Set<string> = new Set()): JwtVerifier {
  return new JwtVerifier({
    jwksUrl,
    issuer: 'tenantry-identity',
    audience: 'tenantry-api',
    cacheMaxAgeMs: 60_000,
    cooldownMs: 1000,
    timeoutMs: 2000,
    clockToleranceSeconds: 0,
    revokedSessions: revoked,
    verifiedCacheMs: 5000,
  });
}

async function token(claims: Record<string, unknown>, expiresInSeconds = 600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ act: 'user', sub: 'user-1', tid: 'tenant-1', jti: 'jti-1', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: KID })
    .setIssuer('tenantry-identity')
    .setAudience('tenantry-api')
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(privateKey);
}

describe('JwtVerifier verified-token cache', () => {
  it('checks a token’s signature once within the cache time, and again after it', async () => {
    const jwt = verifier();
    const t = await token({});
    const actor = await jwt.verify(t, undefined);
    await expect(jwt.verify(t, undefined)).resolves.toEqual(actor);
    expect(jwtVerify).toHaveBeenCalledTimes(1);

    const later = Date.now() + 5001;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    await expect(jwt.verify(t, undefined)).resolves.toEqual(actor);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('refuses a remembered token once its session is revoked', async () => {
    const revoked = new Set<string>();
    const jwt = verifier(revoked);
    const t = await token({ sid: 'session-1' });
    await jwt.verify(t, undefined);
    revoked.add('session-1');
    await expect(jwt.verify(t, undefined)).rejects.toBeInstanceOf(InvalidAccessTokenError);
  });

  it('never remembers a token past its exp', async () => {
    const jwt = verifier();
    const t = await token({}, 2);
    await jwt.verify(t, undefined);
    await jwt.verify(t, undefined);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    // Past exp (and within the cache time): checked again, so jose's expiry check decides.
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3000);
    await jwt.verify(t, undefined).catch(() => undefined);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
  });

  it('does not remember a refused token, nor accept a changed one', async () => {
    const jwt = verifier();
    const t = await token({});
    await jwt.verify(t, undefined);
    const [header, payload, signature] = t.split('.') as [string, string, string];
    const other = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), tid: 'x' }),
    ).toString('base64url');
    await expect(jwt.verify(`${header}.${other}.${signature}`, undefined)).rejects.toBeInstanceOf(
      InvalidAccessTokenError,
    );
  });
});
