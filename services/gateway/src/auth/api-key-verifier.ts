import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { AuthenticatedActor } from './authenticated-actor';
import type { IdentityClient } from './identity-client';
import { IdentityUnavailableError } from './identity-client';

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
  /** How long an answer is reused; a revoked key stops working within this time. */
  readonly cacheMs: number;
  readonly maxEntries?: number;
}

/**
 * Verifies API keys with identity and remembers the answer briefly (valid and invalid alike, so a
 * flood of one bad key costs identity one call per period). The cache is keyed by a hash of the
 * key, so the secret is not held in memory longer than the request; concurrent look-ups of one
 * key share a single call.
 */
export class ApiKeyVerifier {
  private readonly cache: LRUCache<string, Verification, { key: string; requestId: string }>;

  constructor(private readonly options: ApiKeyVerifierOptions) {
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
    const { expiresAt } = result.key;
    if (expiresAt && Date.parse(expiresAt) <= Date.now()) throw new InvalidApiKeyError('expired');
    return {
      tenantId: result.key.tenantId,
      actor: { type: 'api_key', id: result.key.apiKeyId },
      credential: 'api_key',
      role: result.key.role,
    };
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
