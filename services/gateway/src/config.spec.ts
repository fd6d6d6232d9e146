import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadGatewayConfig } from './config';

const pair = generateContextTokenKeyPair();
const env = { CONTEXT_TOKEN_PRIVATE_KEY: pair.privateKeyPem };

describe('gateway configuration', () => {
  it('listens on loopback and serves metrics on a port of their own by default', () => {
    const config = loadGatewayConfig(env);
    expect(config.host).toBe('127.0.0.1');
    expect(config.metricsPort).toBe(9464);
    expect(config.metricsPort).not.toBe(config.port);
  });

  it('signs with the private key it is given, named by its thumbprint', () => {
    expect(loadGatewayConfig(env).contextTokenKey.kid).toBe(pair.kid);
    expect(() => loadGatewayConfig({})).toThrow(/CONTEXT_TOKEN_PRIVATE_KEY is not set/);
    // A public key cannot sign: the gateway must be given the private half.
    expect(() => loadGatewayConfig({ CONTEXT_TOKEN_PRIVATE_KEY: pair.publicKeyPem })).toThrow(
      /CONTEXT_TOKEN_PRIVATE_KEY/,
    );
  });
});
