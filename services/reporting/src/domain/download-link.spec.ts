import { checkDownload, signDownload } from './download-link';

describe('download link', () => {
  const key = { secret: 'x'.repeat(32) };
  const now = new Date('2026-03-01T00:00:00Z');
  const expiresAt = new Date('2026-03-01T00:05:00Z');

  it('works for its tenant and export until it expires', () => {
    const link = { tenantId: 't1', exportId: 'e1', ...signDownload(key, 't1', 'e1', expiresAt) };
    expect(checkDownload(key, link, now)).toBe('ok');
    expect(checkDownload(key, link, expiresAt)).toBe('expired');
  });

  it('is refused for another tenant, another export, another expiry or another key', () => {
    const signed = signDownload(key, 't1', 'e1', expiresAt);
    expect(checkDownload(key, { tenantId: 't2', exportId: 'e1', ...signed }, now)).toBe('invalid');
    expect(checkDownload(key, { tenantId: 't1', exportId: 'e2', ...signed }, now)).toBe('invalid');
    expect(
      checkDownload(
        key,
        { tenantId: 't1', exportId: 'e1', ...signed, expires: signed.expires + 3600 },
        now,
      ),
    ).toBe('invalid');
    expect(
      checkDownload({ secret: 'y'.repeat(32) }, { tenantId: 't1', exportId: 'e1', ...signed }, now),
    ).toBe('invalid');
    expect(
      checkDownload(key, { tenantId: 't1', exportId: 'e1', ...signed, signature: 'short' }, now),
    ).toBe('invalid');
  });
});
