import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import { CONTEXT_TOKEN_ALGORITHM } from './context-token-key';
import type { ContextTokenKey, ContextTokenSigningKey } from './context-token-key';
import { isActorType } from './tenant-context';
import type { ActorType, TenantContext } from './tenant-context';

export const CONTEXT_TOKEN_ISSUER = 'tenantry-gateway';
/** Explicit JWT type (RFC 8725 §3.11), so no other JWT of ours can pass for a context token. */
export const CONTEXT_TOKEN_TYPE = 'tenantry-context+jwt';
/** A context token only has to outlive one hop from the gateway; anything longer is a leak risk. */
export const MAX_CONTEXT_TOKEN_TTL_SECONDS = 300;

export type ContextTokenFailure =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'invalid_claims';

export class InvalidContextTokenError extends Error {
  constructor(
    readonly reason: ContextTokenFailure,
    options?: { cause?: unknown },
  ) {
    super(`invalid context token (${reason})`, options);
    this.name = 'InvalidContextTokenError';
  }
}

const id = z.string().min(1).max(200);
const actor = z.object({
  type: z.custom<ActorType>(isActorType, 'unknown actor type'),
  id,
});

const claimsSchema = z.object({
  tid: id,
  act: actor,
  // Absent on a shared token (one per tenant, actor, permission and audience, for many requests):
  // the request id then travels in `x-request-id` beside it.
  rid: id.optional(),
  jti: id,
  cid: id.optional(),
  prm: z.array(id).max(20).optional(),
});

const contextSchema = z.object({
  tenantId: id,
  actor,
  requestId: id,
  correlationId: id.optional(),
  grantedPermissions: z.array(id).max(20).optional(),
});

const sharedClaimsSchema = z.object({
  tenantId: id,
  actor,
  grantedPermissions: z.array(id).max(20).optional(),
});

/** What a shared context token carries: the verified context without anything per request. */
export type SharedContextClaims = Pick<TenantContext, 'tenantId' | 'actor' | 'grantedPermissions'>;

export interface SignContextTokenOptions {
  /** Lifetime; default 60 s, at most {@link MAX_CONTEXT_TOKEN_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  /** The service the token is meant for, when the verifier pins one. */
  readonly audience?: string;
}

/**
 * Issues a token for one request (its id is the `jti`), with the gateway's private key: for the
 * gateway's own calls to services. Forwarded client requests carry a shared token instead
 * ({@link signSharedContextToken}).
 */
export async function signContextToken(
  context: TenantContext,
  key: ContextTokenSigningKey,
  options: SignContextTokenOptions = {},
): Promise<string> {
  const { tenantId, actor, requestId, correlationId, grantedPermissions } = checkedClaims(
    contextSchema,
    context,
  );
  return signClaims(
    {
      tid: tenantId,
      act: { type: actor.type, id: actor.id },
      rid: requestId,
      ...(correlationId === undefined ? {} : { cid: correlationId }),
      ...(grantedPermissions === undefined ? {} : { prm: grantedPermissions }),
    },
    requestId,
    key,
    options,
  );
}

/**
 * Issues a context token that many requests of one tenant, actor, verified permission and
 * audience may carry while it lives (the gateway reuses it; ADR 0018): no request id inside, its
 * own random `jti`. A request carrying it names its id in `x-request-id`, which the gateway
 * stamps (clients can never send it). One ES256 signature per request was the largest single
 * CPU item of the gateway's hop, and the service's verification of it the largest of theirs.
 */
export async function signSharedContextToken(
  claims: SharedContextClaims,
  key: ContextTokenSigningKey,
  options: SignContextTokenOptions = {},
): Promise<string> {
  const { tenantId, actor, grantedPermissions } = checkedClaims(sharedClaimsSchema, claims);
  return signClaims(
    {
      tid: tenantId,
      act: { type: actor.type, id: actor.id },
      ...(grantedPermissions === undefined ? {} : { prm: grantedPermissions }),
    },
    randomUUID(),
    key,
    options,
  );
}

function checkedClaims<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const checked = schema.safeParse(value);
  if (!checked.success) {
    throw new TypeError(
      `cannot sign an incomplete tenant context: ${z.prettifyError(checked.error)}`,
    );
  }
  return checked.data;
}

/** Both kinds of token: the gateway's key, issuer, type, `jti`, lifetime and audience. */
function signClaims(
  claims: Record<string, unknown>,
  jti: string,
  key: ContextTokenSigningKey,
  { ttlSeconds = 60, audience }: SignContextTokenOptions,
): Promise<string> {
  if (
    !Number.isInteger(ttlSeconds) ||
    ttlSeconds < 1 ||
    ttlSeconds > MAX_CONTEXT_TOKEN_TTL_SECONDS
  ) {
    throw new RangeError(
      `ttlSeconds must be an integer from 1 to ${MAX_CONTEXT_TOKEN_TTL_SECONDS}, got ${ttlSeconds}`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: CONTEXT_TOKEN_ALGORITHM, kid: key.kid, typ: CONTEXT_TOKEN_TYPE })
    .setIssuer(CONTEXT_TOKEN_ISSUER)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds);
  if (audience !== undefined) jwt.setAudience(audience);
  return jwt.sign(key.privateKey);
}

export interface VerifyContextTokenOptions {
  /** Reject tokens not issued for this service. */
  readonly audience?: string;
  /** Allowed clock skew between gateway and service; default 5 s. */
  readonly clockToleranceSeconds?: number;
  /**
   * The request's id as the gateway stamped it (`x-request-id`): the id of a request whose
   * token is shared. A token that carries its own request id ignores it.
   */
  readonly requestId?: string;
}

function failureOf(error: unknown): ContextTokenFailure {
  if (error instanceof InvalidContextTokenError) return error.reason;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'unsupported_algorithm';
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return 'invalid_claims';
  return 'malformed';
}

type ContextClaims = z.infer<typeof claimsSchema>;

/** The token's signature and registered claims checked; its context claims parsed. */
async function verifiedClaims(
  token: string,
  keys: ContextTokenKey | readonly ContextTokenKey[],
  { audience, clockToleranceSeconds = 5 }: VerifyContextTokenOptions,
): Promise<{ claims: ContextClaims; expiresAtMs: number }> {
  const accepted: readonly ContextTokenKey[] = Array.isArray(keys)
    ? keys
    : [keys as ContextTokenKey];
  const keyFor = (header: JWTHeaderParameters): KeyObject => {
    // jose already checked `algorithms`; repeated here so the key is never handed to another alg.
    if (header.alg !== CONTEXT_TOKEN_ALGORITHM) {
      throw new InvalidContextTokenError('unsupported_algorithm');
    }
    const key = accepted.find((candidate) => candidate.kid === header.kid);
    if (!key) throw new InvalidContextTokenError('unknown_key');
    return key.publicKey;
  };
  try {
    const { payload } = await jwtVerify(token, keyFor, {
      // Pinned: the token's own header must never choose the algorithm (no `none`, no RS/HS mix-up).
      algorithms: [CONTEXT_TOKEN_ALGORITHM],
      issuer: CONTEXT_TOKEN_ISSUER,
      typ: CONTEXT_TOKEN_TYPE,
      audience,
      clockTolerance: clockToleranceSeconds,
      // Guards against a gateway misconfigured with a long lifetime as well as a forged `exp`.
      maxTokenAge: MAX_CONTEXT_TOKEN_TTL_SECONDS + clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    const claims = claimsSchema.safeParse(payload);
    // A per-request token names its request (`jti` = `rid`).
    if (!claims.success || (claims.data.rid !== undefined && claims.data.jti !== claims.data.rid)) {
      throw new InvalidContextTokenError('invalid_claims');
    }
    return { claims: claims.data, expiresAtMs: (payload.exp as number) * 1000 };
  } catch (error) {
    throw error instanceof InvalidContextTokenError
      ? error
      : new InvalidContextTokenError(failureOf(error), { cause: error });
  }
}

/** The context a verified token carries; a shared token's request id comes from the header. */
function contextOf(claims: ContextClaims, requestId: string | undefined): TenantContext {
  const { tid, act, rid, cid, prm } = claims;
  const effectiveRequestId = rid ?? requestId;
  if (!id.safeParse(effectiveRequestId).success) {
    throw new InvalidContextTokenError('invalid_claims');
  }
  return {
    tenantId: tid,
    actor: { type: act.type, id: act.id },
    requestId: effectiveRequestId as string,
    ...(cid === undefined ? {} : { correlationId: cid }),
    ...(prm === undefined ? {} : { grantedPermissions: prm }),
  };
}

/**
 * Verifies a context token against the gateway's accepted public keys (current first, then the
 * previous one during a rotation, chosen by `kid`) and returns the tenant context it carries.
 * Only ES256 is accepted: an HS256 token "signed" with a public key, or `none`, never gets a key.
 * Throws {@link InvalidContextTokenError} with the reason when it is not acceptable.
 */
export async function verifyContextToken(
  token: string,
  keys: ContextTokenKey | readonly ContextTokenKey[],
  options: VerifyContextTokenOptions = {},
): Promise<TenantContext> {
  const { claims } = await verifiedClaims(token, keys, options);
  return contextOf(claims, options.requestId);
}

export interface ContextTokenVerifierOptions {
  readonly audience?: string;
  readonly clockToleranceSeconds?: number;
  /** Shared tokens remembered at once; the oldest is forgotten first. Default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * {@link verifyContextToken} for a service's every request, remembering each shared token it
 * verified until the token's `exp`: the gateway reuses one for many requests, so the ES256
 * verification runs about once per token instead of once per request. The cache is keyed by the
 * token's exact text, so a token it holds is byte for byte one whose signature was checked, by
 * the same keys and audience. Per-request tokens are verified every time (nothing to reuse).
 */
export class ContextTokenVerifier {
  private readonly verified: LRUCache<string, { claims: ContextClaims; expiresAtMs: number }>;
  private readonly now: () => number;

  constructor(
    private readonly keys: readonly ContextTokenKey[],
    private readonly options: ContextTokenVerifierOptions = {},
  ) {
    this.verified = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.now = options.now ?? Date.now;
  }

  async verify(token: string, requestId: string | undefined): Promise<TenantContext> {
    const known = this.verified.get(token);
    if (known && known.expiresAtMs > this.now()) return contextOf(known.claims, requestId);
    const result = await verifiedClaims(token, this.keys, this.options);
    // Per-request tokens are not kept: each is seen once.
    if (result.claims.rid === undefined) this.verified.set(token, result);
    return contextOf(result.claims, requestId);
  }
}
