import { DevelopmentSecretRefusedError, generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadConfig } from './config';

const own = {
  CONTEXT_TOKEN_PUBLIC_KEYS: generateContextTokenKeyPair().publicKeyPem,
  IDENTITY_KEY_ENCRYPTION_SECRET: 'k'.repeat(40),
};

describe('identity configuration', () => {
  it('listens on loopback unless HOST says otherwise', () => {
    expect(loadConfig(own).host).toBe('127.0.0.1');
    expect(loadConfig({ ...own, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('refuses the published key-encryption secret outside development', () => {
    const env = {
      ...own,
      IDENTITY_KEY_ENCRYPTION_SECRET: 'local-stack-only-identity-key-encryption-0123456789abcdef',
    };
    expect(() => loadConfig({ ...env, NODE_ENV: 'production' })).toThrow(
      DevelopmentSecretRefusedError,
    );
    expect(loadConfig({ ...env, NODE_ENV: 'development' }).host).toBe('127.0.0.1');
  });
});
