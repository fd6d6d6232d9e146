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

  it('waits seven days before purging a deleted tenant unless told otherwise', () => {
    expect(loadConfig(own).offboarding.gracePeriodMs).toBe(7 * 24 * 3600 * 1000);
    expect(
      loadConfig({ ...own, TENANT_DELETION_GRACE_PERIOD: '0' }).offboarding.gracePeriodMs,
    ).toBe(0);
    expect(
      loadConfig({ ...own, TENANT_DELETION_GRACE_PERIOD: '90' }).offboarding.gracePeriodMs,
    ).toBe(90_000);
    expect(
      loadConfig({ ...own, TENANT_DELETION_GRACE_PERIOD: 'P1DT2H30M' }).offboarding.gracePeriodMs,
    ).toBe((26 * 60 + 30) * 60 * 1000);
  });

  it.each(['P1M', 'P', 'PT', '7 days', '-5', 'P1.5D'])('refuses the grace period %j', (value) => {
    expect(() => loadConfig({ ...own, TENANT_DELETION_GRACE_PERIOD: value })).toThrow(
      /TENANT_DELETION_GRACE_PERIOD/,
    );
  });
});
