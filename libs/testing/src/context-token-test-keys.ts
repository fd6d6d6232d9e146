import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import type {
  ContextTokenKey,
  ContextTokenKeyPair,
  ContextTokenSigningKey,
} from '@tenantry/tenancy';

/** A gateway key pair for tests, with the environment the gateway and the services take. */
export interface ContextTokenTestKeys {
  readonly pair: ContextTokenKeyPair;
  /** What the gateway signs with (its `contextTokenKey`). */
  readonly signingKey: ContextTokenSigningKey;
  /** What a service verifies with (its `contextKeys`). */
  readonly contextKeys: readonly ContextTokenKey[];
  /** `CONTEXT_TOKEN_PRIVATE_KEY`, for a gateway started from its environment. */
  readonly gatewayEnv: { readonly CONTEXT_TOKEN_PRIVATE_KEY: string };
  /** `CONTEXT_TOKEN_PUBLIC_KEYS`, for a service started from its environment. */
  readonly serviceEnv: { readonly CONTEXT_TOKEN_PUBLIC_KEYS: string };
}

let shared: ContextTokenTestKeys | undefined;

/**
 * The test run's gateway key pair, generated once per process (per test file under jest), so a
 * harness, the services it starts and the tokens it signs all agree without a committed key.
 */
export function contextTokenTestKeys(): ContextTokenTestKeys {
  shared ??= testKeysOf(generateContextTokenKeyPair());
  return shared;
}

/** Another, unrelated key pair: what a service that tried to mint a context would hold. */
export function strangerContextTokenKeys(): ContextTokenTestKeys {
  return testKeysOf(generateContextTokenKeyPair());
}

function testKeysOf(pair: ContextTokenKeyPair): ContextTokenTestKeys {
  return {
    pair,
    signingKey: pair.signingKey,
    contextKeys: [pair.verificationKey],
    gatewayEnv: { CONTEXT_TOKEN_PRIVATE_KEY: pair.privateKeyPem },
    serviceEnv: { CONTEXT_TOKEN_PUBLIC_KEYS: pair.publicKeyPem },
  };
}
