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

/**
 * Counts failed logins per account and per client IP in Redis (shared by every replica), with an
 * in-memory fallback while Redis is unreachable. Once a counter is spent, attempts are refused
 * with 429 before the password is even checked, until the window ends.
 */
export class LoginRateLimiter {
  private readonly perAccount: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(options: LoginRateLimiterOptions) {
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

  /** Throws a 429 problem when either counter is spent. */
  async assertAllowed(account: string, ip: string): Promise<void> {
    const [byAccount, byIp] = await Promise.all([this.perAccount.get(account), this.perIp.get(ip)]);
    const spent = [
      [byAccount, this.perAccount.points],
      [byIp, this.perIp.points],
    ] as const;
    for (const [state, points] of spent) {
      if (state && state.consumedPoints >= points) {
        throw tooManyRequests('Too many failed sign-in attempts. Try again later.', {
          retryAfterSeconds: state.msBeforeNext / 1000,
        });
      }
    }
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    await Promise.all([this.perAccount.penalty(account, 1), this.perIp.penalty(ip, 1)]).catch(
      (error: unknown) => {
        if (!(error instanceof RateLimiterRes)) throw error;
      },
    );
  }

  /** A successful login clears the account's counter (not the IP's). */
  async recordSuccess(account: string): Promise<void> {
    await this.perAccount.delete(account);
  }
}
