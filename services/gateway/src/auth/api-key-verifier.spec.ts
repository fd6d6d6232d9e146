import { ApiKeyVerifier } from './api-key-verifier';
import type { IdentityClient, IdentityResponse } from './identity-client';

const KEY = 'tnt_abc123_secretsecretsecret';
const VALID: IdentityResponse = {
  status: 200,
  body: { apiKeyId: 'key-1', tenantId: 'tenant-1', role: 'admin', expiresAt: null },
};

/** Identity's verify route, answered by the test (no network: this is the cache's logic). */
function identityAnswering(answers: (() => Promise<IdentityResponse>)[]): {
  identity: IdentityClient;
  calls: () => number;
} {
  let calls = 0;
  const identity = {
    request: () => {
      const next = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (!next) throw new Error('no answer');
      return next();
    },
  } as unknown as IdentityClient;
  return { identity, calls: () => calls };
}

describe('ApiKeyVerifier revocation', () => {
  it('refuses a cached key as soon as it is revoked, long before the cache would expire', async () => {
    const { identity, calls } = identityAnswering([
      () => Promise.resolve(VALID),
      () => Promise.resolve({ status: 401, body: {} }),
    ]);
    const verifier = new ApiKeyVerifier({ identity, cacheMs: 60_000 });
    await expect(verifier.verify(KEY, 'r1')).resolves.toMatchObject({
      actor: { type: 'api_key', id: 'key-1' },
    });
    await verifier.verify(KEY, 'r2');
    expect(calls()).toBe(1);

    expect(verifier.revoke('key-1')).toBe(1);
    await expect(verifier.verify(KEY, 'r3')).rejects.toThrow('invalid API key');
  });

  it('does not let an answer that was in flight during the revocation bring the key back', async () => {
    let release: (answer: IdentityResponse) => void = () => undefined;
    const inFlight = new Promise<IdentityResponse>((resolve) => {
      release = resolve;
    });
    const { identity } = identityAnswering([() => inFlight]);
    const verifier = new ApiKeyVerifier({ identity, cacheMs: 60_000 });
    const pending = verifier.verify(KEY, 'r1');
    verifier.revoke('key-1');
    release(VALID); // identity answered before its revocation committed
    await expect(pending).rejects.toThrow('revoked');
    await expect(verifier.verify(KEY, 'r2')).rejects.toThrow('invalid API key');
  });

  it('adds no deny entry for a replayed revocation long past (identity refuses the key itself)', async () => {
    let now = 10_000_000;
    const { identity, calls } = identityAnswering([() => Promise.resolve(VALID)]);
    const verifier = new ApiKeyVerifier({ identity, cacheMs: 1_000, now: () => now });
    verifier.revoke('key-1', now - 3_600_000);
    // Only a stand-in identity would still call it valid; the point is what the gateway holds.
    await expect(verifier.verify(KEY, 'r1')).resolves.toMatchObject({ tenantId: 'tenant-1' });
    verifier.revoke('key-1', now);
    now += 59_000;
    await expect(verifier.verify(KEY, 'r2')).rejects.toThrow('revoked');
    expect(calls()).toBe(2);
  });

  it('leaves other keys alone', async () => {
    const { identity, calls } = identityAnswering([() => Promise.resolve(VALID)]);
    const verifier = new ApiKeyVerifier({ identity, cacheMs: 60_000 });
    await verifier.verify(KEY, 'r1');
    expect(verifier.revoke('key-2')).toBe(0);
    await expect(verifier.verify(KEY, 'r2')).resolves.toMatchObject({ tenantId: 'tenant-1' });
    expect(calls()).toBe(1);
  });
});
