import { contextTokenKeysFromEnv, contextTokenSigningKeyFromEnv } from './context-token-key';
import { generateContextTokenKeyPair } from './context-token-key-pair';
import {
  DEVELOPMENT_KEY_IDS,
  DevelopmentSecretRefusedError,
  refuseDevelopmentSecret,
} from './development-secret';

const published = 'local-stack-only-identity-key-encryption-0123456789abcdef';

// The local stack's context-token key pair, as committed in deploy/local/lib/stack-config.mjs.
const DEVELOPMENT_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0x8ZsR3wTEry8o/T
uu5DuQJRcj9UWXXacCzNyUqr43KhRANCAASYZLGRbEA7I6Mx/6D0xLBav7we2Tlg
+6QbH1CGB69/aRzQrbrHX2o8wz4Fxzoxkjp6zsf9QNRsm1d8YtGqPO1X
-----END PRIVATE KEY-----`;
const DEVELOPMENT_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmGSxkWxAOyOjMf+g9MSwWr+8Htk5
YPukGx9Qhgevf2kc0K26x19qPMM+Bcc6MZI6es7H/UDUbJtXfGLRqjztVw==
-----END PUBLIC KEY-----`;

function loadBoth(nodeEnv: string | undefined): readonly string[] {
  return [
    contextTokenSigningKeyFromEnv({
      CONTEXT_TOKEN_PRIVATE_KEY: DEVELOPMENT_PRIVATE_KEY,
      NODE_ENV: nodeEnv,
    }).kid,
    ...contextTokenKeysFromEnv({
      CONTEXT_TOKEN_PUBLIC_KEYS: DEVELOPMENT_PUBLIC_KEY,
      NODE_ENV: nodeEnv,
    }).map((key) => key.kid),
  ];
}

describe('published development secrets and keys', () => {
  it.each([undefined, 'production', 'staging', ''])('are refused with NODE_ENV=%s', (nodeEnv) => {
    expect(() => refuseDevelopmentSecret('X', published, { NODE_ENV: nodeEnv })).toThrow(
      /X holds the local stack's published development secret/,
    );
    expect(() =>
      contextTokenSigningKeyFromEnv({
        CONTEXT_TOKEN_PRIVATE_KEY: DEVELOPMENT_PRIVATE_KEY,
        NODE_ENV: nodeEnv,
      }),
    ).toThrow(/CONTEXT_TOKEN_PRIVATE_KEY holds the local stack's published development key/);
    // A service trusting the published public key would accept contexts anyone can mint.
    expect(() =>
      contextTokenKeysFromEnv({
        CONTEXT_TOKEN_PUBLIC_KEYS: `${generateContextTokenKeyPair().publicKeyPem}${DEVELOPMENT_PUBLIC_KEY}`,
        NODE_ENV: nodeEnv,
      }),
    ).toThrow(DevelopmentSecretRefusedError);
  });

  it.each(['development', 'test'])('are accepted with NODE_ENV=%s', (nodeEnv) => {
    expect(() => refuseDevelopmentSecret('X', published, { NODE_ENV: nodeEnv })).not.toThrow();
    const kids = loadBoth(nodeEnv);
    expect(kids).toHaveLength(2);
    for (const kid of kids) expect(DEVELOPMENT_KEY_IDS.has(kid)).toBe(true);
  });

  it('leave a deployment’s own secrets and keys alone in production', () => {
    expect(() =>
      refuseDevelopmentSecret('X', 'a'.repeat(48), { NODE_ENV: 'production' }),
    ).not.toThrow();
    const own = generateContextTokenKeyPair();
    expect(
      contextTokenSigningKeyFromEnv({
        CONTEXT_TOKEN_PRIVATE_KEY: own.privateKeyPem,
        NODE_ENV: 'production',
      }).kid,
    ).toBe(own.kid);
    expect(
      contextTokenKeysFromEnv({
        CONTEXT_TOKEN_PUBLIC_KEYS: own.publicKeyPem,
        NODE_ENV: 'production',
      }),
    ).toHaveLength(1);
  });
});
