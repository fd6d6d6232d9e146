import { LRUCache } from 'lru-cache';
import { signSharedContextToken } from '@tenantry/tenancy';
import type { ContextTokenSigningKey, SharedContextClaims } from '@tenantry/tenancy';

export interface SharedContextTokensOptions {
  readonly key: ContextTokenSigningKey;
  /** Lifetime of each token; default 60 s. */
  readonly ttlSeconds?: number;
  /** Tokens kept at once (tenant × actor × permission × audience); oldest forgotten first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * The context tokens the gateway stamps on forwarded requests: one per tenant, actor, verified
 * permission and audience, reused for the first half of its lifetime, so a token that reaches a
 * service always has at least half its lifetime (30 s by default) left. One ES256 signature per
 * request was the gateway's largest single CPU item (bench/README.md, ADR 0018).
 */
export class SharedContextTokens {
  private readonly tokens: LRUCache<string, { token: string; reuseUntilMs: number }>;
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: SharedContextTokensOptions) {
    this.ttlSeconds = options.ttlSeconds ?? 60;
    this.tokens = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.now = options.now ?? Date.now;
  }

  async tokenFor(claims: SharedContextClaims, audience: string): Promise<string> {
    const key = [
      audience,
      claims.tenantId,
      claims.actor.type,
      claims.actor.id,
      ...(claims.grantedPermissions ?? []),
    ].join('\n');
    const now = this.now();
    const known = this.tokens.get(key);
    if (known && known.reuseUntilMs > now) return known.token;
    const token = await signSharedContextToken(claims, this.options.key, {
      ttlSeconds: this.ttlSeconds,
      audience,
    });
    // Signed in whole seconds: count the reuse window from the second the token says it began.
    const issuedAtMs = Math.floor(now / 1000) * 1000;
    this.tokens.set(key, { token, reuseUntilMs: issuedAtMs + (this.ttlSeconds * 1000) / 2 });
    return token;
  }
}
