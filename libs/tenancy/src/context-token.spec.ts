import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { createContextTokenSigningKey } from './context-token-key';
import { generateContextTokenKeyPair } from './context-token-key-pair';
import {
  CONTEXT_TOKEN_ISSUER,
  CONTEXT_TOKEN_TYPE,
  ContextTokenVerifier,
  signContextToken,
  signSharedContextToken,
  verifyContextToken,
} from './context-token';
import type { TenantContext } from './tenant-context';

const context: TenantContext = {
  tenantId: 'tenant-a',
  actor: { type: 'user', id: 'user-1' },
  requestId: 'req-1',
  correlationId: 'corr-1',
};
const currentPair = generateContextTokenKeyPair();
const previousPair = generateContextTokenKeyPair();
/** The gateway's keys: the private half signs, services hold only the public half. */
const current = currentPair.signingKey;
const previous = previousPair.signingKey;
const currentPublic = currentPair.verificationKey;
const previousPublic = previousPair.verificationKey;

async function expectFailure(promise: Promise<unknown>, reason: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'InvalidContextTokenError', reason });
}

/** A well-formed context token with any header and signing key (what an attacker can build). */
function forge(
  header: { alg: string; kid: string; typ?: string },
  key: KeyObject | Uint8Array,
  claims: Record<string, unknown> = {},
  issuer = CONTEXT_TOKEN_ISSUER,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    tid: 'tenant-b',
    act: { type: 'user', id: 'mallory' },
    rid: 'req-1',
    ...claims,
  })
    .setProtectedHeader({ typ: CONTEXT_TOKEN_TYPE, ...header })
    .setIssuer(issuer)
    .setJti('req-1')
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key);
}

describe('context token', () => {
  it('round-trips the tenant context, signed ES256 with the key’s thumbprint as kid', async () => {
    const token = await signContextToken(context, current);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', kid: current.kid, typ: CONTEXT_TOKEN_TYPE });
    await expect(verifyContextToken(token, [currentPublic])).resolves.toEqual(context);
  });

  it('leaves out the correlation id when there is none', async () => {
    const { correlationId: _omit, ...withoutCorrelation } = context;
    const token = await signContextToken(withoutCorrelation, current);
    await expect(verifyContextToken(token, currentPublic)).resolves.toEqual(withoutCorrelation);
  });

  it('verifies a token signed with the previous key while its public key is still listed', async () => {
    const token = await signContextToken(context, previous);
    await expect(verifyContextToken(token, [currentPublic, previousPublic])).resolves.toEqual(
      context,
    );
    await expectFailure(verifyContextToken(token, [currentPublic]), 'unknown_key');
  });

  it('accepts the new key once services list it, before the gateway switches (rotation)', async () => {
    // Step 1: services get [previous, next]; the gateway still signs with the previous key.
    const next = generateContextTokenKeyPair();
    const during = [previousPublic, next.verificationKey];
    await expect(
      verifyContextToken(await signContextToken(context, previous), during),
    ).resolves.toEqual(context);
    // Step 2: the gateway signs with the new key; both kinds of token in flight verify.
    await expect(
      verifyContextToken(await signContextToken(context, next.signingKey), during),
    ).resolves.toEqual(context);
    // Step 3: the previous public key is removed; its tokens stop verifying.
    await expectFailure(
      verifyContextToken(await signContextToken(context, previous), [next.verificationKey]),
      'unknown_key',
    );
  });

  it('refuses a token signed by another EC key that claims the gateway key’s kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const impostor = await forge({ alg: 'ES256', kid: current.kid }, privateKey);
    await expectFailure(verifyContextToken(impostor, [currentPublic]), 'bad_signature');
    // The same through signContextToken with the kid swapped in.
    const other = createContextTokenSigningKey(privateKey);
    const swapped = Object.freeze({ kid: current.kid, privateKey: other.privateKey });
    await expectFailure(
      verifyContextToken(await signContextToken(context, swapped), [currentPublic]),
      'bad_signature',
    );
  });

  it('refuses a token signed by a key it does not know', async () => {
    const stranger = generateContextTokenKeyPair();
    await expectFailure(
      verifyContextToken(await signContextToken(context, stranger.signingKey), [currentPublic]),
      'unknown_key',
    );
  });

  it('refuses HS256, even keyed with the gateway’s public key (algorithm confusion)', async () => {
    const publicPem = new TextEncoder().encode(currentPair.publicKeyPem);
    const hs256 = await forge({ alg: 'HS256', kid: current.kid }, publicPem);
    await expectFailure(verifyContextToken(hs256, [currentPublic]), 'unsupported_algorithm');
    const secret = new TextEncoder().encode('c'.repeat(32));
    await expectFailure(
      verifyContextToken(await forge({ alg: 'HS256', kid: current.kid }, secret), currentPublic),
      'unsupported_algorithm',
    );
  });

  it('refuses any other asymmetric algorithm, even from a key of the same curve', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const es384 = await forge({ alg: 'ES384', kid: current.kid }, p384);
    await expectFailure(verifyContextToken(es384, [currentPublic]), 'unsupported_algorithm');
    const ed = generateKeyPairSync('ed25519').privateKey;
    const eddsa = await forge({ alg: 'EdDSA', kid: current.kid }, ed);
    await expectFailure(verifyContextToken(eddsa, [currentPublic]), 'unsupported_algorithm');
  });

  it('refuses an expired token', async () => {
    jest.useFakeTimers({ now: Date.now() - 120_000, doNotFake: ['nextTick', 'queueMicrotask'] });
    const token = await signContextToken(context, current, { ttlSeconds: 60 });
    jest.useRealTimers();
    await expectFailure(verifyContextToken(token, [currentPublic]), 'expired');
  });

  it('checks the audience when the verifier pins one', async () => {
    const token = await signContextToken(context, current, { audience: 'billing' });
    await expect(
      verifyContextToken(token, currentPublic, { audience: 'billing' }),
    ).resolves.toEqual(context);
    await expectFailure(
      verifyContextToken(token, currentPublic, { audience: 'identity' }),
      'invalid_claims',
    );
    const none = await signContextToken(context, current);
    await expectFailure(
      verifyContextToken(none, currentPublic, { audience: 'identity' }),
      'invalid_claims',
    );
  });

  it('refuses unsigned and garbage tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: current.kid })).toString(
      'base64url',
    );
    const payload = Buffer.from(JSON.stringify({ tid: 'tenant-b' })).toString('base64url');
    await expect(verifyContextToken(`${header}.${payload}.`, currentPublic)).rejects.toThrow(
      'invalid context token',
    );
    await expectFailure(verifyContextToken('not-a-token', currentPublic), 'malformed');
  });

  it('refuses a correctly signed token with the wrong issuer, type or claims', async () => {
    const signed = (claims: Record<string, unknown>, typ = CONTEXT_TOKEN_TYPE, issuer?: string) =>
      forge({ alg: 'ES256', kid: current.kid, typ }, current.privateKey, claims, issuer);
    const good = { tid: 'tenant-a', act: { type: 'user', id: 'u' }, rid: 'req-1' };
    await expect(verifyContextToken(await signed(good), currentPublic)).resolves.toMatchObject({
      tenantId: 'tenant-a',
    });
    await expectFailure(
      verifyContextToken(await signed(good, CONTEXT_TOKEN_TYPE, 'identity'), currentPublic),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(await signed(good, 'JWT'), currentPublic),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(await signed({ ...good, act: { type: 'root', id: 'u' } }), currentPublic),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(await signed({ ...good, rid: 'req-2' }), currentPublic),
      'invalid_claims',
    );
  });

  it('refuses to sign an incomplete context or a long-lived token', async () => {
    await expect(signContextToken({ ...context, tenantId: '' }, current)).rejects.toThrow(
      TypeError,
    );
    await expect(signContextToken(context, current, { ttlSeconds: 3600 })).rejects.toThrow(
      RangeError,
    );
  });

  it('cannot be signed with the public key a service holds', async () => {
    const asSigning = { kid: current.kid, privateKey: currentPublic.publicKey };
    await expect(signContextToken(context, asSigning)).rejects.toThrow();
    expect(() => createContextTokenSigningKey(currentPublic.publicKey)).toThrow(/private key/);
  });
});

describe('granted permissions in the context token', () => {
  it('carries the permissions the gateway verified, and nothing when none were', async () => {
    const base = { tenantId: 't1', actor: { type: 'user' as const, id: 'u1' }, requestId: 'r1' };
    const withGrant = await verifyContextToken(
      await signContextToken({ ...base, grantedPermissions: ['api-keys:read'] }, current),
      currentPublic,
    );
    expect(withGrant.grantedPermissions).toEqual(['api-keys:read']);
    const without = await verifyContextToken(await signContextToken(base, current), currentPublic);
    expect(without.grantedPermissions).toBeUndefined();
  });
});

describe('shared context token (one per tenant, actor, permission and audience)', () => {
  const claims = {
    tenantId: 'tenant-a',
    actor: { type: 'user' as const, id: 'user-1' },
    grantedPermissions: ['invoices:read'],
  };

  it('carries no request id: the request names its own, as the gateway stamped it', async () => {
    const token = await signSharedContextToken(claims, current, { audience: 'billing' });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.rid).toBeUndefined();
    expect(payload.jti).toEqual(expect.any(String));
    for (const requestId of ['req-1', 'req-2']) {
      await expect(
        verifyContextToken(token, currentPublic, { audience: 'billing', requestId }),
      ).resolves.toEqual({ ...claims, requestId });
    }
  });

  it('is refused without a well-formed request id beside it, or for another audience', async () => {
    const token = await signSharedContextToken(claims, current, { audience: 'billing' });
    await expectFailure(
      verifyContextToken(token, currentPublic, { audience: 'billing' }),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(token, currentPublic, { audience: 'billing', requestId: '' }),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(token, currentPublic, { audience: 'identity', requestId: 'r' }),
      'invalid_claims',
    );
  });

  it('a per-request token keeps its own request id whatever the header says', async () => {
    const token = await signContextToken(context, current);
    await expect(
      verifyContextToken(token, currentPublic, { requestId: 'req-from-header' }),
    ).resolves.toMatchObject({ requestId: context.requestId });
  });
});

describe('ContextTokenVerifier (a service verifying every request)', () => {
  const claims = { tenantId: 'tenant-a', actor: { type: 'user' as const, id: 'user-1' } };

  it('gives each request its own id, also when the token was verified before', async () => {
    const verifier = new ContextTokenVerifier([currentPublic], { audience: 'billing' });
    const token = await signSharedContextToken(claims, current, { audience: 'billing' });
    await expect(verifier.verify(token, 'req-1')).resolves.toMatchObject({ requestId: 'req-1' });
    await expect(verifier.verify(token, 'req-2')).resolves.toMatchObject({ requestId: 'req-2' });
  });

  it('refuses a token that differs by one character from one it remembers', async () => {
    const verifier = new ContextTokenVerifier([currentPublic], { audience: 'billing' });
    const token = await signSharedContextToken(claims, current, { audience: 'billing' });
    await verifier.verify(token, 'req-1');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace('tenant-a', 'tenant-b'),
    ).toString('base64url');
    await expect(
      verifier.verify(`${header}.${forgedPayload}.${signature}`, 'req-2'),
    ).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    await expect(verifier.verify(`${header}.${payload}.${flipped}`, 'req-3')).rejects.toMatchObject(
      {
        name: 'InvalidContextTokenError',
      },
    );
  });

  it('forgets a remembered token at its exp: it is then verified again, and refused', async () => {
    const verifier = new ContextTokenVerifier([currentPublic], { clockToleranceSeconds: 0 });
    const token = await signSharedContextToken(claims, current, { ttlSeconds: 1 });
    await expect(verifier.verify(token, 'req-1')).resolves.toMatchObject({ tenantId: 'tenant-a' });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expectFailure(verifier.verify(token, 'req-2'), 'expired');
  });

  it('stays bounded: a full cache forgets its oldest token, and both still verify', async () => {
    const verifier = new ContextTokenVerifier([currentPublic], { maxEntries: 1 });
    const first = await signSharedContextToken(claims, current);
    const second = await signSharedContextToken({ ...claims, tenantId: 'tenant-b' }, current);
    for (const token of [first, second, first, second]) {
      await expect(verifier.verify(token, 'req')).resolves.toMatchObject({ requestId: 'req' });
    }
  });
});
