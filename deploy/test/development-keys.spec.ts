// The local stack's published context-token key pair (deploy/local/lib/stack-config.mjs, the same
// in docker-compose.yml) is refused by every service outside development: a PEM carries no
// `local-stack-only-` prefix, so this checks that its key id is on libs/tenancy's list.
import { DevelopmentSecretRefusedError, generateContextTokenKeyPair } from '@tenantry/tenancy';
import { loadConfig as loadAuthorizationConfig } from '../../services/authorization/src/config';
import { loadConfig as loadBillingConfig } from '../../services/billing/src/config';
import { loadConfig as loadReportingConfig } from '../../services/reporting/src/config';
import { loadGatewayConfig } from '../../services/gateway/src/config';
import { loadConfig as loadIdentityConfig } from '../../services/identity/src/config';
import { readStackConfig } from './manifest-helpers';

const LOADERS: Readonly<Record<string, (env: NodeJS.ProcessEnv) => unknown>> = {
  identity: loadIdentityConfig,
  authorization: loadAuthorizationConfig,
  billing: loadBillingConfig,
  reporting: loadReportingConfig,
  gateway: loadGatewayConfig,
};

const stack = readStackConfig();

describe.each(stack.services.map((s) => s.name))('the local stack’s %s', (name) => {
  const local = stack.services.find((s) => s.name === name)!;
  const load = LOADERS[name];

  it('starts with its development environment', () => {
    expect(load).toBeDefined();
    expect(local.env.NODE_ENV).toBe('development');
    expect(() => load!(local.env)).not.toThrow();
  });

  it.each([undefined, 'production'])(
    'refuses the published context-token key with NODE_ENV=%s, and only it',
    (nodeEnv) => {
      const env: NodeJS.ProcessEnv = { ...local.env, NODE_ENV: nodeEnv };
      // A deployment's own secrets, so that only the key pair is left to refuse.
      for (const key of Object.keys(env).filter((k) => /SECRET/.test(k)))
        env[key] = 'a-deployment-s-own-secret-0123456789abcdef';
      expect(() => load!(env)).toThrow(DevelopmentSecretRefusedError);
      expect(() => load!(env)).toThrow(/^CONTEXT_TOKEN_(PRIVATE_KEY|PUBLIC_KEYS) holds/);

      const own = generateContextTokenKeyPair();
      if (env.CONTEXT_TOKEN_PRIVATE_KEY) env.CONTEXT_TOKEN_PRIVATE_KEY = own.privateKeyPem;
      if (env.CONTEXT_TOKEN_PUBLIC_KEYS) env.CONTEXT_TOKEN_PUBLIC_KEYS = own.publicKeyPem;
      expect(() => load!(env)).not.toThrow();
    },
  );
});
