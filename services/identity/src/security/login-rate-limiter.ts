import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tooManyRequests } from '@tenantry/http';

export interface LoginRateLimiterOptions {
  readonly redis: Redis;
  readonly keyPrefix: string;
  readonly perAccount: number;
  readonly perIp: number;
  readonly windowSeconds: number;
}

const GIVE_BACK_ONE_LUA = `
local spent = tonumber(redis.call('GET', KEYS[1]))
if spent ~= nil and spent > 0 then redis.call('DECR', KEYS[1]) end
return 0
`;

/**
 * Limits password attempts per account and per client IP in Redis (shared by every replica), with
 * an in-memory fallback while Redis is unreachable. Each attempt spends a point on both counters
 * in one atomic step BEFORE the password is checked, so parallel guesses cannot all pass one
 * check; a spent counter refuses with 429 until the window ends. Only a proven password gives
 * anything back (see {@link recordSuccess}).
 */
export class LoginRateLimiter {
  private readonly perAccount: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;
  private readonly redis: Redis;

  constructor(options: LoginRateLimiterOptions) {
    this.redis = options.redis;
    const limiter = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: `${options.keyPrefix}:login-failures:${name}`,
        points,
        duration: options.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points, duration: options.windowSeconds }),
      });
    this.perAccount = limiter('account', options.perAccount);
    this.perIp = limiter('ip', options.perIp);
  }

  /**
   * Spends one attempt of the account and one of the IP (Redis INCR: atomic per counter); throws
   * a 429 problem when either was already spent. Nothing is refunded when the password is wrong.
   */
  async consumeAttempt(account: string, ip: string): Promise<void> {
    const outcomes = await Promise.allSettled([
      this.perAccount.consume(account, 1),
      this.perIp.consume(ip, 1),
    ]);
    let refusal: RateLimiterRes | undefined;
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      // consume() rejects with the counter's state when spent, with an Error when both the
      // store and the insurance failed.
      if (!(outcome.reason instanceof RateLimiterRes)) throw outcome.reason;
      if (!refusal || outcome.reason.msBeforeNext > refusal.msBeforeNext) refusal = outcome.reason;
    }
    if (refusal) {
      throw tooManyRequests('Too many failed sign-in attempts. Try again later.', {
        retryAfterSeconds: Math.max(1, refusal.msBeforeNext / 1000),
      });
    }
  }

  /**
   * A proven password clears the account's counter and gives the IP back the attempt it spent,
   * so the IP counter counts failures (and attempts in flight) only: many users behind one
   * address can still sign in.
   */
  async recordSuccess(account: string, ip: string): Promise<void> {
    // Never below zero: successes must not bank credit for later guesses from the same IP.
    await Promise.all([
      this.perAccount.delete(account),
      this.redis.eval(GIVE_BACK_ONE_LUA, 1, this.perIp.getKey(ip)).catch(() => undefined),
    ]);
  }
}
