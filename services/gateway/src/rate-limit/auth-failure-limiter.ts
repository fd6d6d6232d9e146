import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { RateLimitPolicy } from '../config';
import { TOKEN_BUCKET_REFILL_LUA } from './token-bucket-refill.lua';

/** Read-only: [allowed, ms until one token]. Successful requests cost this one call only. */
const PEEK_LUA = `${TOKEN_BUCKET_REFILL_LUA}
if tokens >= 1 then return { 1, 0 } end
return { 0, math.ceil((1 - tokens) * 1000 / rate) }
`;

/**
 * One failure spent. The bucket may go into debt (down to -burst): failures that were in flight
 * together all passed the peek, and each is still charged, so a parallel flood buys a longer
 * wait rather than a bigger budget.
 */
const CHARGE_LUA = `${TOKEN_BUCKET_REFILL_LUA}
tokens = math.max(-burst, tokens - 1)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(2 * burst * 1000 / rate) + 1000)
return 0
`;

type AuthFailureRedis = Redis & {
  tenantryAuthFailurePeek(key: string, rate: number, burst: number): Promise<[number, number]>;
  tenantryAuthFailureCharge(key: string, rate: number, burst: number): Promise<number>;
};

export interface AuthFailureDecision {
  readonly allowed: boolean;
  readonly retryAfterSeconds: number;
}

export interface AuthFailureLimiterOptions {
  readonly redis: Redis;
  readonly policy: RateLimitPolicy;
  /** Key namespace, so tests and environments sharing a Redis do not share buckets. */
  readonly keyPrefix: string;
  readonly onRedisError?: (error: unknown) => void;
  /**
   * How long an address that Redis said may try is let through without asking again, unless
   * this replica sees it fail meanwhile (default 1000 ms; 0 asks every time). Failures seen by
   * other replicas take effect here within that time.
   */
  readonly allowedCacheMs?: number;
  /** Addresses remembered as allowed at once; the oldest is forgotten first. Default 10,000. */
  readonly maxAllowedEntries?: number;
  readonly now?: () => number;
}

/**
 * Failed authentications per client address, as a token bucket in Redis shared by every replica:
 * each 401 spends a token; an address with none left is refused before its credential is looked
 * up, so a flood of random API keys or tokens never reaches identity. Fail-open when Redis cannot
 * answer, like the tenant limiter.
 */
export class AuthFailureLimiter {
  private readonly redis: AuthFailureRedis;
  /**
   * Addresses Redis recently allowed, until when: successful requests (nearly all of them) skip
   * the peek, one Redis call per request. A failure seen here forgets the address at once, so
   * an address that is failing is asked about on every request, as before.
   */
  private readonly recentlyAllowed: LRUCache<string, number>;

  constructor(private readonly options: AuthFailureLimiterOptions) {
    options.redis.defineCommand('tenantryAuthFailurePeek', { numberOfKeys: 1, lua: PEEK_LUA });
    options.redis.defineCommand('tenantryAuthFailureCharge', { numberOfKeys: 1, lua: CHARGE_LUA });
    this.redis = options.redis as AuthFailureRedis;
    this.recentlyAllowed = new LRUCache({ max: options.maxAllowedEntries ?? 10_000 });
  }

  private keyOf(address: string): string {
    return `${this.options.keyPrefix}{${address}}`;
  }

  /** Whether `address` may still try a credential. */
  async check(address: string): Promise<AuthFailureDecision> {
    const { ratePerSecond, burst } = this.options.policy;
    const now = (this.options.now ?? Date.now)();
    const allowedUntil = this.recentlyAllowed.get(address);
    if (allowedUntil !== undefined) {
      if (allowedUntil > now) return { allowed: true, retryAfterSeconds: 0 };
      this.recentlyAllowed.delete(address);
    }
    try {
      const [allowed, retryMs] = await this.redis.tenantryAuthFailurePeek(
        this.keyOf(address),
        ratePerSecond,
        burst,
      );
      if (allowed === 1) this.rememberAllowed(address, now);
      return { allowed: allowed === 1, retryAfterSeconds: Math.ceil(retryMs / 1000) };
    } catch (error) {
      this.options.onRedisError?.(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }

  /** Spends one failure of `address`. */
  async recordFailure(address: string): Promise<void> {
    this.recentlyAllowed.delete(address);
    const { ratePerSecond, burst } = this.options.policy;
    try {
      await this.redis.tenantryAuthFailureCharge(this.keyOf(address), ratePerSecond, burst);
    } catch (error) {
      this.options.onRedisError?.(error);
    }
  }

  private rememberAllowed(address: string, now: number): void {
    const cacheMs = this.options.allowedCacheMs ?? 1000;
    if (cacheMs <= 0) return;
    this.recentlyAllowed.set(address, now + cacheMs);
  }
}
