import { DEFAULT_RETRY_POLICY } from '@tenantry/events';
import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadConfig } from './config';

describe('reporting configuration', () => {
  const env = {
    CONTEXT_TOKEN_PUBLIC_KEYS: generateContextTokenKeyPair().publicKeyPem,
    REPORTING_EXPORT_SIGNING_SECRET: 'a-secret-of-this-deployment-only-0123456789',
  };

  it('listens on loopback port 4004 with the reporting database unless told otherwise', () => {
    expect(loadConfig(env)).toMatchObject({
      host: '127.0.0.1',
      port: 4004,
      databaseUrl: 'postgres://reporting_app:reporting_app@127.0.0.1:5433/reporting',
      databaseOwnerUrl: 'postgres://reporting_owner:reporting_owner@127.0.0.1:5433/reporting',
      consumerGroupPrefix: 'reporting',
    });
    expect(
      loadConfig({
        ...env,
        HOST: '0.0.0.0',
        PORT: '5000',
        REPORTING_DATABASE_URL: 'postgres://a:b@db:5432/r',
      }),
    ).toMatchObject({ host: '0.0.0.0', port: 5000, databaseUrl: 'postgres://a:b@db:5432/r' });
  });

  it('refuses to start without the gateway’s public key', () => {
    expect(() =>
      loadConfig({ REPORTING_EXPORT_SIGNING_SECRET: env.REPORTING_EXPORT_SIGNING_SECRET }),
    ).toThrow(/CONTEXT_TOKEN_PUBLIC_KEYS/);
  });

  it('needs its own export signing secret outside development', () => {
    const { REPORTING_EXPORT_SIGNING_SECRET: _secret, ...withoutSecret } = env;
    expect(() => loadConfig(withoutSecret)).toThrow(/REPORTING_EXPORT_SIGNING_SECRET/);
    expect(() => loadConfig({ ...env, REPORTING_EXPORT_SIGNING_SECRET: 'short' })).toThrow(
      /at least 32/,
    );
    const published = {
      ...env,
      REPORTING_EXPORT_SIGNING_SECRET: `local-stack-only-${'x'.repeat(32)}`,
    };
    expect(() => loadConfig(published)).toThrow(/published development secret/);
    expect(loadConfig({ ...published, NODE_ENV: 'test' }).exports).toMatchObject({
      linkTtlSeconds: 300,
      maxRows: 1_000_000,
      sweepIntervalMs: 60_000,
    });
    expect(loadConfig({ ...env, REPORTING_EXPORT_DIR: 'var/exports' }).exports.directory).toMatch(
      /^\/.*\/var\/exports$/,
    );
  });

  it('retries refused events as the inbox does by default, or as told', () => {
    expect(loadConfig(env).retry).toEqual(DEFAULT_RETRY_POLICY);
    expect(
      loadConfig({
        ...env,
        REPORTING_RETRY_ATTEMPTS: '2',
        REPORTING_RETRY_INITIAL_DELAY_MS: '20',
        REPORTING_RETRY_MAX_DELAY_MS: '10',
      }).retry,
    ).toEqual({ attempts: 2, initialDelayMs: 20, maxDelayMs: 20 });
    expect(() => loadConfig({ ...env, REPORTING_RETRY_ATTEMPTS: '0' })).toThrow(
      /REPORTING_RETRY_ATTEMPTS/,
    );
  });
});
