import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadConfig } from './config';

describe('authorization configuration', () => {
  it('listens on loopback unless HOST says otherwise', () => {
    const env = { CONTEXT_TOKEN_PUBLIC_KEYS: generateContextTokenKeyPair().publicKeyPem };
    expect(loadConfig(env).host).toBe('127.0.0.1');
    expect(loadConfig({ ...env, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});
