import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AuthFailureLimiter } from '../src/rate-limit/auth-failure-limiter';

// Two replicas' limiters sharing one real Redis, each with its own clock.
describe('AuthFailureLimiter: what a replica remembers between peeks', () => {
  let redis: Redis;
  const keyPrefix = `test:auth-failures:${randomBytes(6).toString('hex')}:`;
  const policy = { ratePerSecond: 0.001, burst: 3 };

  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  function replica(now: () => number): AuthFailureLimiter {
    return new AuthFailureLimiter({ redis, policy, keyPrefix, allowedCacheMs: 1000, now });
  }

  it('sees the failures another replica charged within a second', async () => {
    let clock = 1_000_000;
    const one = replica(() => clock);
    const two = replica(() => clock);
    const address = `ip:192.0.2.${Math.floor(Math.random() * 200)}`;

    expect((await one.check(address)).allowed).toBe(true);
    // The other replica sees the address spend its whole budget.
    for (let i = 0; i < policy.burst; i += 1) await two.recordFailure(address);
    expect((await two.check(address)).allowed).toBe(false);

    // Replica one still remembers its answer for up to a second...
    expect((await one.check(address)).allowed).toBe(true);
    // ...and asks Redis once that second has passed.
    clock += 1001;
    expect((await one.check(address)).allowed).toBe(false);
  });

  it('forgets an allowed address as soon as it fails on this replica', async () => {
    const one = replica(() => 5_000_000);
    const address = `ip:198.51.100.${Math.floor(Math.random() * 200)}`;
    expect((await one.check(address)).allowed).toBe(true);
    for (let i = 0; i < policy.burst; i += 1) await one.recordFailure(address);
    expect((await one.check(address)).allowed).toBe(false);
  });
});
