import type { ActorType } from '@tenantry/tenancy';

/** Whose key it is: the same key string from another tenant or actor is another key. */
export interface IdempotencyScope {
  readonly tenantId: string;
  readonly actorType: ActorType;
  readonly actorId: string;
  readonly key: string;
}

/** The parts of a response a replay repeats. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** Proof of a claim; completing or releasing needs it, so a claim taken over cannot be written. */
export interface IdempotencyClaim {
  readonly scope: IdempotencyScope;
  readonly token: string;
}

export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly claim: IdempotencyClaim }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in-progress'; readonly retryAfterSeconds: number };

/**
 * Where idempotent routes keep their keys. `claim` must be atomic across every replica that
 * shares the store: of any number of concurrent claims of one key, exactly one is `claimed`.
 */
export interface IdempotencyStore {
  claim(scope: IdempotencyScope, fingerprint: string): Promise<ClaimOutcome>;
  /** Records the response; false when the claim was lost (its lease ran out and was taken over). */
  complete(claim: IdempotencyClaim, response: StoredResponse): Promise<boolean>;
  /** Frees the key so the client may retry (after a 5xx, a 409 or a 429). */
  release(claim: IdempotencyClaim): Promise<void>;
}
