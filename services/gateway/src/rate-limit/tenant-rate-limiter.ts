import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { RateLimitPolicy } from '../config';
import { TOKEN_BUCKET_REFILL_LUA } from './token-bucket-refill.lua';

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until one token is back (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Stated when Redis could not decide and the request was let through (fail-open). */
  readonly degraded?: boolean;
  readonly policy: RateLimitPolicy;
}

/**
 * A token bucket per key, refilled continuously and decided atomically inside Redis, so every
 * gateway replica draws from the same bucket. Redis' own clock is used, so replica clocks do not
 * matter. Returns [allowed, whole tokens left, ms until one token, ms until full].
 */
const TOKEN_BUCKET_LUA = `${TOKEN_BUCKET_REFILL_LUA}local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
local retry = 0
if allowed == 0 then
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
return { allowed, math.floor(tokens), retry, math.ceil((burst - tokens) * 1000 / rate) }
`;

type TokenBucketRedis = Redis & {
  tenantryTokenBucket(
    key: string,
    rate: number,
    burst: number,
  ): Promise<[number, number, number, number]>;
};

export interface TenantRateLimiterOptions {
  readonly redis: Redis;
  readonly defaultPolicy: RateLimitPolicy;
  readonly overrides?: Readonly<Record<string, RateLimitPolicy>>;
  /** Key namespace, so tests and environments sharing a Redis do not share buckets. */
  readonly keyPrefix?: string;
  readonly onRedisError?: (error: unknown) => void;
  /** Tenants remembered as empty at once; the oldest is forgotten first. Default 10,000. */
  readonly maxEmptyEntries?: number;
  readonly now?: () => number;
}

/**
 * Per-tenant rate limiting. Each tenant has its own bucket, so one tenant emptying its bucket
 * costs another tenant nothing but one O(1) Redis call. When Redis cannot answer the request is
 * let through (fail-open): an outage of the limiter must not become an outage of the API; the
 * error is reported so it is seen.
 */
export class TenantRateLimiter {
  private readonly redis: TokenBucketRedis;
  private readonly keyPrefix: string;
  /**
   * Tenants whose bucket Redis found empty, until when: no token can exist before `retryAt`
   * (refill is a function of time and nothing but a call takes tokens), so a request before then
   * is refused here, exactly as Redis would, without a call. A flooding tenant's excess then
   * costs the gateway no Redis round trip.
   */
  private readonly emptyUntil: LRUCache<string, { retryAt: number; fullAt: number }>;

  constructor(private readonly options: TenantRateLimiterOptions) {
    options.redis.defineCommand('tenantryTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.redis = options.redis as TokenBucketRedis;
    this.keyPrefix = options.keyPrefix ?? 'gateway:rate:';
    this.emptyUntil = new LRUCache({ max: options.maxEmptyEntries ?? 10_000 });
  }

  policyOf(tenantId: string): RateLimitPolicy {
    return this.options.overrides?.[tenantId] ?? this.options.defaultPolicy;
  }

  async take(tenantId: string): Promise<RateLimitDecision> {
    const policy = this.policyOf(tenantId);
    const now = (this.options.now ?? Date.now)();
    const empty = this.emptyUntil.get(tenantId);
    if (empty) {
      if (empty.retryAt > now) {
        return {
          allowed: false,
          limit: policy.burst,
          remaining: 0,
          retryAfterSeconds: Math.ceil((empty.retryAt - now) / 1000),
          resetSeconds: Math.ceil((empty.fullAt - now) / 1000),
          policy,
        };
      }
      this.emptyUntil.delete(tenantId);
    }
    try {
      const [allowed, remaining, retryMs, fullMs] = await this.redis.tenantryTokenBucket(
        `${this.keyPrefix}{${tenantId}}`,
        policy.ratePerSecond,
        policy.burst,
      );
      if (allowed !== 1) this.rememberEmpty(tenantId, now, retryMs, fullMs);
      return {
        allowed: allowed === 1,
        limit: policy.burst,
        remaining,
        retryAfterSeconds: Math.ceil(retryMs / 1000),
        resetSeconds: Math.ceil(fullMs / 1000),
        policy,
      };
    } catch (error) {
      this.options.onRedisError?.(error);
      return {
        allowed: true,
        limit: policy.burst,
        remaining: policy.burst,
        retryAfterSeconds: 0,
        resetSeconds: 0,
        degraded: true,
        policy,
      };
    }
  }

  private rememberEmpty(tenantId: string, now: number, retryMs: number, fullMs: number): void {
    if (retryMs <= 0) return;
    this.emptyUntil.set(tenantId, { retryAt: now + retryMs, fullAt: now + fullMs });
  }
}

/**
 * RateLimit headers (IETF httpapi draft, the widely implemented `RateLimit-*` form): the bucket
 * size, what is left, and when it is full again; `RateLimit-Policy` states the refill rate.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const { policy } = decision;
  const window = Math.max(1, Math.ceil(policy.burst / policy.ratePerSecond));
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': `${policy.burst};w=${window};comment="token bucket, ${policy.ratePerSecond}/s per tenant"`,
  };
}
