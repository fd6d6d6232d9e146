import { DevelopmentSecretRefusedError } from '@tenantry/tenancy';
import { loadGatewayConfig } from './config';

const secret = 'g'.repeat(40);

describe('gateway configuration', () => {
  it('listens on loopback and serves metrics on a port of their own by default', () => {
    const config = loadGatewayConfig({ CONTEXT_TOKEN_SECRET: secret });
    expect(config.host).toBe('127.0.0.1');
    expect(config.metricsPort).toBe(9464);
    expect(config.metricsPort).not.toBe(config.port);
  });

  it('refuses to start with the local stack’s published secret outside development', () => {
    const published = 'local-stack-only-context-token-secret-0123456789abcdef';
    expect(() => loadGatewayConfig({ CONTEXT_TOKEN_SECRET: published })).toThrow(
      DevelopmentSecretRefusedError,
    );
    expect(
      loadGatewayConfig({ CONTEXT_TOKEN_SECRET: published, NODE_ENV: 'development' }).host,
    ).toBe('127.0.0.1');
  });
});
