import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { refuseDevelopmentKey } from './development-secret';

/**
 * Context tokens are ES256 (ECDSA P-256, as identity's access tokens): only the gateway holds the
 * private key, so a service that can verify a context cannot mint one.
 */
export const CONTEXT_TOKEN_ALGORITHM = 'ES256';
/** OpenSSL's (and Node's) name for P-256, the only curve ES256 allows (RFC 7518 §3.4). */
const CURVE = 'prime256v1';
/** Current plus previous during a rotation, with room for an unusual overlap; more is a mistake. */
export const MAX_CONTEXT_TOKEN_PUBLIC_KEYS = 4;

/** The gateway's signing key; `kid` (its public key's RFC 7638 thumbprint) names it in tokens. */
export interface ContextTokenSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** One public key a service accepts context tokens from (the gateway's current or previous). */
export interface ContextTokenKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

export class InvalidContextTokenKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidContextTokenKeyError';
  }
}

function requireP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE) {
    const type = key.asymmetricKeyType ?? key.type;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new InvalidContextTokenKeyError(
      `${what} must be an EC P-256 key (ES256), got ${type}${curve ? ` ${curve}` : ''}`,
    );
  }
}

/**
 * RFC 7638 JWK thumbprint of an EC public key: the gateway and every service derive the same id
 * from the same key, so there is no key id to configure (or to get wrong).
 */
export function contextTokenKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  // Required members only, in lexicographic order, no whitespace (RFC 7638 §3.2).
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Env files often carry a PEM on one line with literal `\n`; a real PEM never contains one. */
function unescapePem(pem: string): string {
  return pem.replace(/\\n/g, '\n').trim();
}

/** The gateway's key from a PEM PKCS#8 EC P-256 private key (or a KeyObject). */
export function createContextTokenSigningKey(pkcs8: string | KeyObject): ContextTokenSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = typeof pkcs8 === 'string' ? createPrivateKey(unescapePem(pkcs8)) : pkcs8;
  } catch (error) {
    throw new InvalidContextTokenKeyError(
      `not a PEM private key (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (privateKey.type !== 'private') {
    throw new InvalidContextTokenKeyError('the signing key must be a private key');
  }
  requireP256(privateKey, 'the signing key');
  const key = { kid: contextTokenKeyId(createPublicKey(privateKey)) } as ContextTokenSigningKey;
  // Non-enumerable so a config object that ends up in a log line keeps the private key out.
  Object.defineProperty(key, 'privateKey', { value: privateKey, enumerable: false });
  return Object.freeze(key);
}

const PRIVATE_KEY_GIVEN =
  'a private key was given where a public key belongs; services get only the gateway’s public key';

/** A verification key from a PEM SPKI EC P-256 public key (or a KeyObject). */
export function createContextTokenKey(spki: string | KeyObject): ContextTokenKey {
  // createPublicKey would quietly derive the public half: a service must not hold the private one.
  if (typeof spki === 'string' && /PRIVATE KEY/.test(spki)) {
    throw new InvalidContextTokenKeyError(PRIVATE_KEY_GIVEN);
  }
  let publicKey: KeyObject;
  try {
    publicKey = typeof spki === 'string' ? createPublicKey(unescapePem(spki)) : spki;
  } catch (error) {
    throw new InvalidContextTokenKeyError(
      `not a PEM public key (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (publicKey.type !== 'public') {
    throw new InvalidContextTokenKeyError('a verification key must be a public key');
  }
  requireP256(publicKey, 'a verification key');
  return Object.freeze({ kid: contextTokenKeyId(publicKey), publicKey });
}

const PUBLIC_KEY_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * Verification keys from one or more concatenated PEM SPKI blocks, current first. Anything but
 * whitespace between the blocks is refused: a truncated or mangled value should stop the start,
 * not silently drop a key.
 */
export function parseContextTokenPublicKeys(pems: string): readonly ContextTokenKey[] {
  const text = unescapePem(pems);
  if (/PRIVATE KEY/.test(text)) throw new InvalidContextTokenKeyError(PRIVATE_KEY_GIVEN);
  const blocks = text.match(PUBLIC_KEY_BLOCK) ?? [];
  if (text.replace(PUBLIC_KEY_BLOCK, '').trim() !== '' || blocks.length === 0) {
    throw new InvalidContextTokenKeyError(
      'expected one or more PEM blocks "-----BEGIN PUBLIC KEY-----" and nothing else',
    );
  }
  if (blocks.length > MAX_CONTEXT_TOKEN_PUBLIC_KEYS) {
    throw new InvalidContextTokenKeyError(
      `at most ${MAX_CONTEXT_TOKEN_PUBLIC_KEYS} public keys, got ${blocks.length}`,
    );
  }
  const keys: ContextTokenKey[] = [];
  for (const block of blocks) {
    const key = createContextTokenKey(block);
    if (!keys.some((known) => known.kid === key.kid)) keys.push(key);
  }
  return keys;
}

type Env = Readonly<Record<string, string | undefined>>;

function withVariable<T>(name: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof InvalidContextTokenKeyError) {
      throw new InvalidContextTokenKeyError(`${name}: ${error.message}`);
    }
    throw error;
  }
}

/** The gateway's signing key from `CONTEXT_TOKEN_PRIVATE_KEY` (PEM PKCS#8, EC P-256). */
export function contextTokenSigningKeyFromEnv(env: Env = process.env): ContextTokenSigningKey {
  const name = 'CONTEXT_TOKEN_PRIVATE_KEY';
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new InvalidContextTokenKeyError(
      `${name} is not set; it must hold the gateway's EC P-256 private key (PEM PKCS#8)`,
    );
  }
  const key = withVariable(name, () => createContextTokenSigningKey(value));
  refuseDevelopmentKey(name, key.kid, env);
  return key;
}

/**
 * The keys a service accepts, from `CONTEXT_TOKEN_PUBLIC_KEYS`: the gateway's current public key,
 * plus the previous one while a rotation is under way (PEM SPKI blocks, concatenated).
 */
export function contextTokenKeysFromEnv(env: Env = process.env): readonly ContextTokenKey[] {
  const name = 'CONTEXT_TOKEN_PUBLIC_KEYS';
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new InvalidContextTokenKeyError(
      `${name} is not set; it must hold the gateway's EC P-256 public key(s) (PEM SPKI)`,
    );
  }
  const keys = withVariable(name, () => parseContextTokenPublicKeys(value));
  for (const key of keys) refuseDevelopmentKey(name, key.kid, env);
  return keys;
}
