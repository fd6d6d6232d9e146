import { KeyEncryption } from './key-encryption';

describe('KeyEncryption', () => {
  it('round-trips and refuses a different secret or a tampered ciphertext', () => {
    const encryption = new KeyEncryption('s'.repeat(32));
    const stored = encryption.encrypt('-----BEGIN PRIVATE KEY-----');
    expect(stored).not.toContain('PRIVATE');
    expect(encryption.decrypt(stored)).toBe('-----BEGIN PRIVATE KEY-----');
    expect(() => new KeyEncryption('t'.repeat(32)).decrypt(stored)).toThrow();
    const parts = stored.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => encryption.decrypt(parts.join('.'))).toThrow();
  });
});
