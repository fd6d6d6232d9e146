import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TenantRateLimiter } from '../src/rate-limit/tenant-rate-limiter';

describe('TenantRateLimiter: an empty bucket is known locally until its next token', () => {
  const keyPrefix = `test:rate:${randomBytes(6).toString('hex')}:`;
  let redis: Redis;

  beforeAll(async () => {
    // As the gateway's client: no offline queue, so a command while disconnected fails at once.
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    await redis.connect();
  });
  afterAll(async () => {
    redis.disconnect();
    const cleanup = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await cleanup.keys(`${keyPrefix}*`);
    if (keys.length > 0) await cleanup.del(...keys);
    cleanup.disconnect();
  });

  it('refuses without asking Redis until a token can exist again, then asks', async () => {
    let clock = 10_000_000;
    const redisErrors: unknown[] = [];
    const limiter = new TenantRateLimiter({
      redis,
      defaultPolicy: { ratePerSecond: 1, burst: 2 },
      keyPrefix,
      now: () => clock,
      onRedisError: (error) => redisErrors.push(error),
    });
    const tenant = `tenant-${randomBytes(4).toString('hex')}`;
    expect(await limiter.take(tenant)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.take(tenant)).toMatchObject({ allowed: true, remaining: 0 });
    const refused = await limiter.take(tenant);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    // Redis is gone: only the local knowledge can answer now, and it answers as Redis did.
    redis.disconnect();
    clock += 500;
    expect(await limiter.take(tenant)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(redisErrors).toHaveLength(0);

    // A token can exist again: the limiter asks Redis (which fails here, so fail-open).
    clock += 600;
    expect(await limiter.take(tenant)).toMatchObject({ allowed: true, degraded: true });
    expect(redisErrors).toHaveLength(1);
  });
});
