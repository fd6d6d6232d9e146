import { contextTokenKeyFromEnv } from './context-token-key';
import { DevelopmentSecretRefusedError, refuseDevelopmentSecret } from './development-secret';

const published = 'local-stack-only-context-token-secret-0123456789abcdef';

describe('published development secrets', () => {
  it.each([undefined, 'production', 'staging', ''])('are refused with NODE_ENV=%s', (nodeEnv) => {
    expect(() =>
      contextTokenKeyFromEnv({ CONTEXT_TOKEN_SECRET: published, NODE_ENV: nodeEnv }),
    ).toThrow(DevelopmentSecretRefusedError);
    expect(() => refuseDevelopmentSecret('X', published, { NODE_ENV: nodeEnv })).toThrow(
      /X holds the local stack's published development secret/,
    );
  });

  it.each(['development', 'test'])('are accepted with NODE_ENV=%s', (nodeEnv) => {
    expect(
      contextTokenKeyFromEnv({ CONTEXT_TOKEN_SECRET: published, NODE_ENV: nodeEnv }).kid,
    ).toBeTruthy();
  });

  it('leave a deployment’s own secrets alone in production', () => {
    const own = 'a'.repeat(48);
    expect(
      contextTokenKeyFromEnv({ CONTEXT_TOKEN_SECRET: own, NODE_ENV: 'production' }).kid,
    ).toBeTruthy();
  });
});
