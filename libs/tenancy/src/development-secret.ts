/**
 * Secrets that the repository itself publishes (the local stack's) start with this, so that a
 * service can recognise one and refuse it wherever it could guard real tenants.
 */
export const DEVELOPMENT_SECRET_PREFIX = 'local-stack-only-';

/**
 * Key ids (RFC 7638 thumbprints) of the key pairs the repository publishes: a PEM has no room for
 * a prefix, so these are recognised by their fingerprint. The local stack's context-token key
 * pair (deploy/local/lib/stack-config.mjs, docker-compose.yml).
 */
export const DEVELOPMENT_KEY_IDS: ReadonlySet<string> = new Set([
  'R51vvkv3TyiXWIlPptVaydppqt7hRa16sOj6Bg7kgFE',
]);

type Env = Readonly<Record<string, string | undefined>>;

export class DevelopmentSecretRefusedError extends Error {
  constructor(variable: string, what: 'secret' | 'key' = 'secret') {
    super(
      `${variable} holds the local stack's published development ${what}, which anyone can read ` +
        'in the repository; it is accepted only with NODE_ENV=development or NODE_ENV=test. ' +
        `Give this deployment its own ${what}.`,
    );
    this.name = 'DevelopmentSecretRefusedError';
  }
}

/** Whether the process declares itself a developer's or a test's: only there may a published secret run. */
export function isDevelopmentEnvironment(env: Env): boolean {
  return env.NODE_ENV === 'development' || env.NODE_ENV === 'test';
}

/** Throws when `value` is a published development secret and the process is not in development. */
export function refuseDevelopmentSecret(variable: string, value: string, env: Env): void {
  if (value.startsWith(DEVELOPMENT_SECRET_PREFIX) && !isDevelopmentEnvironment(env)) {
    throw new DevelopmentSecretRefusedError(variable);
  }
}

/** Throws when `keyId` names a published development key and the process is not in development. */
export function refuseDevelopmentKey(variable: string, keyId: string, env: Env): void {
  if (DEVELOPMENT_KEY_IDS.has(keyId) && !isDevelopmentEnvironment(env)) {
    throw new DevelopmentSecretRefusedError(variable, 'key');
  }
}
