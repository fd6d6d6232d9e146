import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { AuthenticatedActor } from './authenticated-actor';
import type { IdentityClient } from './identity-client';
import { IdentityUnavailableError } from './identity-client';
import { RevocationList } from './revocation-list';

/** `tnt_<prefix>_<secret>`: the shape identity issues; anything else is not looked up at all. */
const API_KEY = /^tnt_[A-Za-z0-9]{1,64}_[A-Za-z0-9_-]{8,256}$/;

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith('tnt_');
}

export class InvalidApiKeyError extends Error {
  constructor(readonly reason: string) {
    super(`invalid API key (${reason})`);
    this.name = 'InvalidApiKeyError';
  }
}

const verified = z.object({
  apiKeyId: z.string().min(1).max(200),
  tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  role: z.string().min(1).max(200),
  expiresAt: z.string().nullish(),
});

type Verification =
  { readonly valid: true; readonly key: z.infer<typeof verified> } | { readonly valid: false };

export interface ApiKeyVerifierOptions {
  readonly identity: IdentityClient;
  /**
   * How long an answer is reused. A revocation event drops it at once (`revoke`); this only
   * bounds staleness when an event is missed.
   */
  readonly cacheMs: number;
  readonly maxEntries?: number;
  /** The clock (tests move it). */
  readonly now?: () => number;
}

/**
 * Verifies API keys with identity and remembers the answer briefly (valid and invalid alike, so a
 * flood of one bad key costs identity one call per period). The cache is keyed by a hash of the
 * key, so the secret is not held in memory longer than the request; concurrent look-ups of one
 * key share a single call. `revoke` (identity's revocation event) drops a key's answers by key id
 * and refuses the key for a while, so an answer identity gave just before the revocation, still
 * in flight, cannot bring it back.
 */
export class ApiKeyVerifier {
  private readonly cache: LRUCache<string, Verification, { key: string; requestId: string }>;
  private readonly denied: RevocationList;
  private readonly now: () => number;
  /** Outlives any answer fetched before the revocation: its cache life plus a look-up's. */
  private readonly denyMs: number;

  constructor(private readonly options: ApiKeyVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.denyMs = Math.max(60_000, 2 * options.cacheMs);
    this.denied = new RevocationList({ maxEntries: options.maxEntries ?? 10_000, now: this.now });
    this.cache = new LRUCache({
      max: options.maxEntries ?? 10_000,
      ttl: options.cacheMs,
      fetchMethod: async (_hash, _stale, { context }) =>
        this.lookUp(context.key, context.requestId),
    });
  }

  async verify(key: string, requestId: string): Promise<AuthenticatedActor> {
    if (!API_KEY.test(key)) throw new InvalidApiKeyError('format');
    const hash = createHash('sha256').update(key).digest('base64url');
    const result = await this.cache.fetch(hash, { context: { key, requestId } });
    if (!result?.valid) throw new InvalidApiKeyError('refused by identity');
    if (this.denied.has(result.key.apiKeyId)) {
      this.cache.delete(hash);
      throw new InvalidApiKeyError('revoked');
    }
    const { expiresAt } = result.key;
    if (expiresAt && Date.parse(expiresAt) <= this.now()) throw new InvalidApiKeyError('expired');
    return {
      tenantId: result.key.tenantId,
      actor: { type: 'api_key', id: result.key.apiKeyId },
      credential: 'api_key',
      role: result.key.role,
    };
  }

  /**
   * The key was revoked (identity's event): forget what identity said about it and refuse it
   * until identity's own answer is the only one left. Returns the cached answers dropped.
   * `revokedAtMs` (the event's time) lets a replayed, long-past revocation add no deny entry.
   */
  revoke(apiKeyId: string, revokedAtMs: number = Number.NaN): number {
    const now = this.now();
    // Never later than now: an identity clock ahead of ours must not stretch the entry.
    const from = Number.isFinite(revokedAtMs) ? Math.min(revokedAtMs, now) : now;
    this.denied.add(apiKeyId, from + this.denyMs);
    let dropped = 0;
    // A scan of a bounded cache on a rare event, instead of an index that follows evictions.
    for (const [hash, answer] of this.cache.entries()) {
      if (answer.valid && answer.key.apiKeyId === apiKeyId) {
        this.cache.delete(hash);
        dropped += 1;
      }
    }
    return dropped;
  }

  private async lookUp(key: string, requestId: string): Promise<Verification> {
    const response = await this.options.identity.request(
      'POST',
      '/internal/v1/api-keys/verify',
      { key },
      requestId,
    );
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      return { valid: false };
    }
    const body = verified.safeParse(response.body);
    if (response.status !== 200 || !body.success) {
      throw new IdentityUnavailableError(`unexpected api-key verify answer ${response.status}`);
    }
    return { valid: true, key: body.data };
  }
}
