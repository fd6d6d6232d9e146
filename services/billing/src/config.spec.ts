import { DEFAULT_RETRY_POLICY } from '@tenantry/events';
import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadConfig } from './config';

describe('billing configuration', () => {
  const env = { CONTEXT_TOKEN_PUBLIC_KEYS: generateContextTokenKeyPair().publicKeyPem };

  it('listens on loopback port 4003 unless told otherwise', () => {
    expect(loadConfig(env)).toMatchObject({ host: '127.0.0.1', port: 4003 });
    expect(loadConfig({ ...env, HOST: '0.0.0.0', PORT: '5000' })).toMatchObject({
      host: '0.0.0.0',
      port: 5000,
    });
  });

  it('lets the scheduler handle 4 due tenants at once unless told otherwise', () => {
    expect(loadConfig(env).schedulerConcurrency).toBe(4);
    expect(loadConfig({ ...env, BILLING_SCHEDULER_CONCURRENCY: '8' }).schedulerConcurrency).toBe(8);
    expect(() => loadConfig({ ...env, BILLING_SCHEDULER_CONCURRENCY: '0' })).toThrow(
      /BILLING_SCHEDULER_CONCURRENCY/,
    );
  });

  it('refuses to start without the gateway’s public key', () => {
    expect(() => loadConfig({})).toThrow(/CONTEXT_TOKEN_PUBLIC_KEYS/);
  });

  it('retries refused usage events as the inbox does by default, or as told', () => {
    expect(loadConfig(env).usageRetry).toEqual(DEFAULT_RETRY_POLICY);
    expect(
      loadConfig({
        ...env,
        BILLING_USAGE_RETRY_ATTEMPTS: '2',
        BILLING_USAGE_RETRY_INITIAL_DELAY_MS: '20',
        BILLING_USAGE_RETRY_MAX_DELAY_MS: '10',
      }).usageRetry,
    ).toEqual({ attempts: 2, initialDelayMs: 20, maxDelayMs: 20 });
    expect(() => loadConfig({ ...env, BILLING_USAGE_RETRY_ATTEMPTS: '0' })).toThrow(
      /BILLING_USAGE_RETRY_ATTEMPTS/,
    );
  });
});
