import { generateKeyPairSync } from 'node:crypto';
import { createContextTokenKey, createContextTokenSigningKey } from './context-token-key';
import type { ContextTokenKey, ContextTokenSigningKey } from './context-token-key';

/** A fresh gateway key pair, as keys and as the PEMs the environment variables take. */
export interface ContextTokenKeyPair {
  readonly kid: string;
  readonly signingKey: ContextTokenSigningKey;
  readonly verificationKey: ContextTokenKey;
  /** For `CONTEXT_TOKEN_PRIVATE_KEY` (PEM PKCS#8). */
  readonly privateKeyPem: string;
  /** For `CONTEXT_TOKEN_PUBLIC_KEYS` (PEM SPKI). */
  readonly publicKeyPem: string;
}

/**
 * Generates an EC P-256 key pair for context tokens (tests, tools). Deployments may equally use
 * `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` (see ADR 0010).
 */
export function generateContextTokenKeyPair(): ContextTokenKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = createContextTokenSigningKey(privateKey);
  const verificationKey = createContextTokenKey(publicKey);
  const pair = {
    kid: signingKey.kid,
    signingKey,
    verificationKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  } as ContextTokenKeyPair;
  // Non-enumerable, as in the signing key: a pair printed by a test does not show the private key.
  Object.defineProperty(pair, 'privateKeyPem', {
    value: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    enumerable: false,
  });
  return Object.freeze(pair);
}
