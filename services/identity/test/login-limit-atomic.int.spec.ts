import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { IdentityTestHarness } from './support/identity-test-harness';

const PER_ACCOUNT = 4;
const PER_IP = 20;

describe('identity: login limits are spent atomically, before the password is checked', () => {
  const h = new IdentityTestHarness();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let verified = 0;

  beforeAll(async () => {
    await h.setUp({
      LOGIN_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT),
      LOGIN_FAILURES_PER_IP: String(PER_IP),
    });
    // Counts real password checks (the hasher still does the work).
    const hasher = h.service.deps.passwords;
    const verify = hasher.verify.bind(hasher);
    hasher.verify = async (...args: Parameters<typeof verify>) => {
      verified += 1;
      return verify(...args);
    };
  });

  afterAll(async () => {
    redis.disconnect();
    await h.tearDown();
  });

  const counter = async (name: 'account' | 'ip', key: string): Promise<number> =>
    Number(
      await redis.get(`${h.service.deps.config.redisKeyPrefix}:login-failures:${name}:${key}`),
    );

  /** Fires every attempt at once; returns how many got each status. */
  async function parallelLogins(
    attempts: readonly { email: string; ip: string }[],
  ): Promise<Record<number, number>> {
    const responses = await Promise.all(
      attempts.map(({ email, ip }) =>
        h.http
          .post('/v1/auth/token')
          .set('x-forwarded-for', ip)
          .send({ email, password: `guess-${randomUUID()}` }),
      ),
    );
    const counts: Record<number, number> = {};
    for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
    return counts;
  }

  it('lets at most the per-account budget of parallel wrong guesses reach the password check', async () => {
    const tenant = await h.signUp();
    const before = verified;
    const counts = await parallelLogins(
      Array.from({ length: 3 * PER_ACCOUNT }, () => ({ email: tenant.email, ip: '192.0.2.10' })),
    );
    expect(counts).toEqual({ 401: PER_ACCOUNT, 429: 2 * PER_ACCOUNT });
    expect(verified - before).toBe(PER_ACCOUNT);
    // Every attempt was counted, the refused ones too.
    expect(await counter('account', tenant.email)).toBe(3 * PER_ACCOUNT);
    // Still limited for the right password.
    const right = await h.http
      .post('/v1/auth/token')
      .set('x-forwarded-for', '192.0.2.11')
      .send({ email: tenant.email, password: tenant.password });
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('lets at most the per-IP budget of parallel guesses across accounts through', async () => {
    const before = verified;
    const counts = await parallelLogins(
      Array.from({ length: 3 * PER_IP }, () => ({
        email: `nobody-${randomUUID()}@example.com`,
        ip: '192.0.2.20',
      })),
    );
    expect(counts).toEqual({ 401: PER_IP, 429: 2 * PER_IP });
    expect(verified - before).toBe(PER_IP);
    expect(await counter('ip', '192.0.2.20')).toBe(3 * PER_IP);
  });

  it('does not charge the IP for proven passwords: many users behind one address sign in', async () => {
    const tenant = await h.signUp();
    for (let i = 0; i < PER_IP + 5; i += 1) {
      const response = await h.http
        .post('/v1/auth/token')
        .set('x-forwarded-for', '192.0.2.30')
        .send({ email: tenant.email, password: tenant.password });
      expect(response.status).toBe(200);
    }
    expect(await counter('ip', '192.0.2.30')).toBe(0);
  });
});
