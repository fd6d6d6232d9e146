import { apiKeyFormat } from './api-key-format';
import { digestsEqual, sha256, tenantBoundToken } from './secret-token';

describe('apiKeyFormat', () => {
  it('generates tnt_<12 hex>_<40 base62> keys whose secret hash matches', () => {
    const generated = apiKeyFormat.generate();
    expect(generated.key).toMatch(/^tnt_[0-9a-f]{12}_[0-9A-Za-z]{40}$/);
    const parsed = apiKeyFormat.parse(generated.key);
    expect(parsed?.prefix).toBe(generated.prefix);
    expect(digestsEqual(sha256(parsed?.secret ?? ''), generated.secretHash)).toBe(true);
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      'tnt_',
      'tnt_abc_def',
      'tnt_ABCDEF123456_' + 'a'.repeat(40),
      'xyz_abcdef123456_' + 'a'.repeat(40),
      'tnt_abcdef123456_' + 'a'.repeat(31),
      'tnt_abcdef123456_' + 'a'.repeat(40) + '_x',
    ]) {
      expect(apiKeyFormat.parse(bad)).toBeUndefined();
    }
  });
});

describe('tenantBoundToken', () => {
  it('carries the tenant id and a secret whose hash is stored', () => {
    const tenantId = '0b6f5a5e-3c2d-4e1f-9a8b-7c6d5e4f3a2b';
    const { token, hash } = tenantBoundToken.issue('rt', tenantId);
    const parsed = tenantBoundToken.parse('rt', token);
    expect(parsed?.tenantId).toBe(tenantId);
    expect(digestsEqual(sha256(parsed?.secret ?? ''), hash)).toBe(true);
    expect(tenantBoundToken.parse('inv', token)).toBeUndefined();
    expect(tenantBoundToken.parse('rt', `${token}x`)).toBeUndefined();
  });
});
