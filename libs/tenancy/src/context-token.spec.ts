import { SignJWT } from 'jose';
import {
  InvalidContextTokenKeyError,
  contextTokenKeyFromEnv,
  contextTokenKeysFromEnv,
  createContextTokenKey,
} from './context-token-key';
import {
  CONTEXT_TOKEN_ISSUER,
  CONTEXT_TOKEN_TYPE,
  signContextToken,
  verifyContextToken,
} from './context-token';
import type { TenantContext } from './tenant-context';

const context: TenantContext = {
  tenantId: 'tenant-a',
  actor: { type: 'user', id: 'user-1' },
  requestId: 'req-1',
  correlationId: 'corr-1',
};
const current = createContextTokenKey('c'.repeat(32));
const previous = createContextTokenKey('p'.repeat(32));

async function expectFailure(promise: Promise<unknown>, reason: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'InvalidContextTokenError', reason });
}

describe('context token', () => {
  it('round-trips the tenant context', async () => {
    const token = await signContextToken(context, current);
    await expect(verifyContextToken(token, [current])).resolves.toEqual(context);
  });

  it('leaves out the correlation id when there is none', async () => {
    const { correlationId: _omit, ...withoutCorrelation } = context;
    const token = await signContextToken(withoutCorrelation, current);
    await expect(verifyContextToken(token, current)).resolves.toEqual(withoutCorrelation);
  });

  it('verifies a token signed with a previous key while that key is still accepted', async () => {
    const token = await signContextToken(context, previous);
    await expect(verifyContextToken(token, [current, previous])).resolves.toEqual(context);
    await expectFailure(verifyContextToken(token, [current]), 'unknown_key');
  });

  it('refuses a token whose signature does not match the key named by its kid', async () => {
    const impostor = createContextTokenKey('x'.repeat(32), current.kid);
    const token = await signContextToken(context, impostor);
    await expectFailure(verifyContextToken(token, [current]), 'bad_signature');
  });

  it('refuses an expired token', async () => {
    jest.useFakeTimers({ now: Date.now() - 120_000, doNotFake: ['nextTick', 'queueMicrotask'] });
    const token = await signContextToken(context, current, { ttlSeconds: 60 });
    jest.useRealTimers();
    await expectFailure(verifyContextToken(token, [current]), 'expired');
  });

  it('checks the audience when the verifier pins one', async () => {
    const token = await signContextToken(context, current, { audience: 'billing' });
    await expect(verifyContextToken(token, current, { audience: 'billing' })).resolves.toEqual(
      context,
    );
    await expectFailure(
      verifyContextToken(token, current, { audience: 'identity' }),
      'invalid_claims',
    );
  });

  it('refuses unsigned and garbage tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: current.kid })).toString(
      'base64url',
    );
    const payload = Buffer.from(JSON.stringify({ tid: 'tenant-b' })).toString('base64url');
    await expect(verifyContextToken(`${header}.${payload}.`, current)).rejects.toThrow(
      'invalid context token',
    );
    await expectFailure(verifyContextToken('not-a-token', current), 'malformed');
  });

  it('refuses a correctly signed token with the wrong issuer, type or claims', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (issuer: string, typ: string, claims: Record<string, unknown>): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: current.kid, typ })
        .setIssuer(issuer)
        .setJti('req-1')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(current.secret);
    const good = { tid: 'tenant-a', act: { type: 'user', id: 'u' }, rid: 'req-1' };
    await expect(
      verifyContextToken(await sign(CONTEXT_TOKEN_ISSUER, CONTEXT_TOKEN_TYPE, good), current),
    ).resolves.toMatchObject({ tenantId: 'tenant-a' });
    await expectFailure(
      verifyContextToken(await sign('identity', CONTEXT_TOKEN_TYPE, good), current),
      'invalid_claims',
    );
    await expectFailure(
      verifyContextToken(await sign(CONTEXT_TOKEN_ISSUER, 'JWT', good), current),
      'invalid_claims',
    );
    const badActor = { ...good, act: { type: 'root', id: 'u' } };
    await expectFailure(
      verifyContextToken(await sign(CONTEXT_TOKEN_ISSUER, CONTEXT_TOKEN_TYPE, badActor), current),
      'invalid_claims',
    );
    const otherRequest = { ...good, rid: 'req-2' };
    await expectFailure(
      verifyContextToken(
        await sign(CONTEXT_TOKEN_ISSUER, CONTEXT_TOKEN_TYPE, otherRequest),
        current,
      ),
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
});

describe('context token keys', () => {
  it('refuse secrets shorter than 32 bytes and keep the secret out of JSON', () => {
    expect(() => createContextTokenKey('short')).toThrow(InvalidContextTokenKeyError);
    expect(JSON.stringify(current)).toBe(JSON.stringify({ kid: current.kid }));
  });

  it('derive the same kid from the same secret', () => {
    expect(createContextTokenKey('c'.repeat(32)).kid).toBe(current.kid);
    expect(previous.kid).not.toBe(current.kid);
  });

  it('read the current and previous secrets from the environment', () => {
    expect(() => contextTokenKeyFromEnv({})).toThrow(/CONTEXT_TOKEN_SECRET is not set/);
    expect(() => contextTokenKeyFromEnv({ CONTEXT_TOKEN_SECRET: 'too-short' })).toThrow(
      /CONTEXT_TOKEN_SECRET: .*at least 32 bytes/,
    );
    const env = {
      CONTEXT_TOKEN_SECRET: 'c'.repeat(32),
      CONTEXT_TOKEN_PREVIOUS_SECRET: 'p'.repeat(32),
    };
    expect(contextTokenKeyFromEnv(env).kid).toBe(current.kid);
    expect(contextTokenKeysFromEnv(env).map((key) => key.kid)).toEqual([current.kid, previous.kid]);
  });
});

describe('granted permissions in the context token', () => {
  it('carries the permissions the gateway verified, and nothing when none were', async () => {
    const key = createContextTokenKey('g'.repeat(40));
    const base = { tenantId: 't1', actor: { type: 'user' as const, id: 'u1' }, requestId: 'r1' };
    const withGrant = await verifyContextToken(
      await signContextToken({ ...base, grantedPermissions: ['api-keys:read'] }, key),
      key,
    );
    expect(withGrant.grantedPermissions).toEqual(['api-keys:read']);
    const without = await verifyContextToken(await signContextToken(base, key), key);
    expect(without.grantedPermissions).toBeUndefined();
  });
});
