import { createLogCapture } from './create-log-capture';
import { createLogger } from './create-logger';
import { REDACTED, redactText } from './redact-secrets';

const JWT =
  'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1LTEiLCJ0ZW5hbnQiOiJ0LTEifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const API_KEY = 'tnt_0123456789ab_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

describe('secrets never reach a log line', () => {
  function logged(write: (logger: ReturnType<typeof createLogger>) => void): string {
    const capture = createLogCapture();
    const logger = createLogger('identity', { level: 'debug', transports: [capture.transport] });
    write(logger);
    return JSON.stringify(capture.lines);
  }

  it('redacts fields named like secrets, at any depth, and keeps the rest', () => {
    const out = logged((logger) =>
      logger.info('login attempt', {
        email: 'ada@example.test',
        password: 'correct horse battery staple',
        body: { newPassword: 'hunter22', profile: { displayName: 'Ada' } },
        headers: { authorization: `Bearer ${JWT}`, 'x-api-key': API_KEY, accept: 'json' },
        refreshToken: 'r-123456789',
        connection: { privateKey: '-----BEGIN PRIVATE KEY-----\nMIG...' },
      }),
    );
    for (const secret of ['correct horse', 'hunter22', JWT, API_KEY, 'r-123456789', 'MIG...'])
      expect(out).not.toContain(secret);
    expect(out).toContain('ada@example.test');
    expect(out).toContain('"displayName":"Ada"');
    expect(out).toContain('"accept":"json"');
    expect(out).toContain(REDACTED);
  });

  it('redacts tokens, keys and URL passwords inside messages and error text', () => {
    const out = logged((logger) => {
      logger.warn(`refused token ${JWT} from a client`);
      logger.error('upstream failed', {
        err: new Error(`request with Authorization: Bearer ${JWT} and key ${API_KEY} failed`),
        url: 'postgres://billing_app:s3cr3t-pass@127.0.0.1:5432/billing',
      });
    });
    for (const secret of [JWT, API_KEY, 's3cr3t-pass']) expect(out).not.toContain(secret);
    expect(out).toContain('postgres://billing_app:[redacted]@127.0.0.1:5432/billing');
    expect(out).toContain('Bearer [redacted]');
  });

  it('leaves ordinary text alone', () => {
    expect(redactText('invoice INV-000001 issued for tenant t-1 (3 seats)')).toBe(
      'invoice INV-000001 issued for tenant t-1 (3 seats)',
    );
  });
});
