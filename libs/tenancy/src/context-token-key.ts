import { createHash } from 'node:crypto';
import { refuseDevelopmentSecret } from './development-secret';

/** One HMAC key for context tokens; `kid` names it in the token header so keys can rotate. */
export interface ContextTokenKey {
  readonly kid: string;
  readonly secret: Uint8Array;
}

export const MIN_CONTEXT_TOKEN_SECRET_BYTES = 32;

export class InvalidContextTokenKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidContextTokenKeyError';
  }
}

/**
 * Builds a key, refusing secrets shorter than HS256's output (RFC 7518 §3.2). Without an explicit
 * `kid` it is a fingerprint of the secret, so the gateway and every service derive the same id
 * from the same secret with nothing else to configure.
 */
export function createContextTokenKey(secret: string | Uint8Array, kid?: string): ContextTokenKey {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_CONTEXT_TOKEN_SECRET_BYTES) {
    throw new InvalidContextTokenKeyError(
      `a context token secret needs at least ${MIN_CONTEXT_TOKEN_SECRET_BYTES} bytes, got ${bytes.byteLength}`,
    );
  }
  const id = kid ?? createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
  if (id.length === 0) throw new InvalidContextTokenKeyError('a context token key id is empty');
  const key = { kid: id } as ContextTokenKey;
  // Non-enumerable so a key that ends up in a log line or JSON does not print the secret.
  Object.defineProperty(key, 'secret', { value: new Uint8Array(bytes), enumerable: false });
  return Object.freeze(key);
}

type Env = Readonly<Record<string, string | undefined>>;

function keyFromVariable(env: Env, name: string): ContextTokenKey | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  refuseDevelopmentSecret(name, value, env);
  try {
    return createContextTokenKey(value);
  } catch (error) {
    if (error instanceof InvalidContextTokenKeyError) {
      throw new InvalidContextTokenKeyError(`${name}: ${error.message}`);
    }
    throw error;
  }
}

/** The current signing key from `CONTEXT_TOKEN_SECRET` (at least 32 bytes). */
export function contextTokenKeyFromEnv(env: Env = process.env): ContextTokenKey {
  const key = keyFromVariable(env, 'CONTEXT_TOKEN_SECRET');
  if (!key) {
    throw new InvalidContextTokenKeyError(
      `CONTEXT_TOKEN_SECRET is not set; it must hold at least ${MIN_CONTEXT_TOKEN_SECRET_BYTES} bytes shared by the gateway and the services`,
    );
  }
  return key;
}

/**
 * The keys a verifier accepts: the current one, then `CONTEXT_TOKEN_PREVIOUS_SECRET` while a
 * rotation is under way (tokens live for seconds, so the previous key can go soon after).
 */
export function contextTokenKeysFromEnv(env: Env = process.env): readonly ContextTokenKey[] {
  const current = contextTokenKeyFromEnv(env);
  const previous = keyFromVariable(env, 'CONTEXT_TOKEN_PREVIOUS_SECRET');
  return previous && previous.kid !== current.kid ? [current, previous] : [current];
}
