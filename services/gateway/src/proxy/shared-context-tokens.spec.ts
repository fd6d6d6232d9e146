import { generateContextTokenKeyPair, verifyContextToken } from '@tenantry/tenancy';
import { SharedContextTokens } from './shared-context-tokens';

const pair = generateContextTokenKeyPair();
const alice = { tenantId: 'tenant-a', actor: { type: 'user' as const, id: 'alice' } };

describe('SharedContextTokens', () => {
  it('reuses one token per tenant, actor, permission and audience for half its lifetime', async () => {
    let now = Date.parse('2026-12-07T12:00:00.000Z');
    const tokens = new SharedContextTokens({
      key: pair.signingKey,
      ttlSeconds: 60,
      now: () => now,
    });
    const first = await tokens.tokenFor(alice, 'billing');
    now += 29_000;
    expect(await tokens.tokenFor(alice, 'billing')).toBe(first);
    now += 1_000;
    const renewed = await tokens.tokenFor(alice, 'billing');
    expect(renewed).not.toBe(first);
  });

  it('never shares a token across audience, tenant, actor or granted permission', async () => {
    const tokens = new SharedContextTokens({ key: pair.signingKey });
    const base = await tokens.tokenFor(alice, 'billing');
    const others = await Promise.all([
      tokens.tokenFor(alice, 'identity'),
      tokens.tokenFor({ ...alice, tenantId: 'tenant-b' }, 'billing'),
      tokens.tokenFor({ ...alice, actor: { type: 'api_key', id: 'alice' } }, 'billing'),
      tokens.tokenFor({ ...alice, grantedPermissions: ['invoices:pay'] }, 'billing'),
    ]);
    expect(new Set([base, ...others]).size).toBe(5);
    const granted = await verifyContextToken(others[3], pair.verificationKey, {
      audience: 'billing',
      requestId: 'req-1',
    });
    expect(granted).toEqual({ ...alice, grantedPermissions: ['invoices:pay'], requestId: 'req-1' });
    await expect(
      verifyContextToken(base, pair.verificationKey, { audience: 'identity', requestId: 'r' }),
    ).rejects.toMatchObject({ reason: 'invalid_claims' });
  });

  it('stays bounded', async () => {
    const tokens = new SharedContextTokens({ key: pair.signingKey, maxEntries: 2 });
    const a = await tokens.tokenFor(alice, 'billing');
    await tokens.tokenFor({ ...alice, tenantId: 't2' }, 'billing');
    await tokens.tokenFor({ ...alice, tenantId: 't3' }, 'billing');
    // The oldest was forgotten: a new token is signed for it.
    expect(await tokens.tokenFor(alice, 'billing')).not.toBe(a);
  });
});
