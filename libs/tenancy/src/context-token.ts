import type { KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
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
  rid: id,
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

export interface SignContextTokenOptions {
  /** Lifetime; default 60 s, at most {@link MAX_CONTEXT_TOKEN_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  /** The service the token is meant for, when the verifier pins one. */
  readonly audience?: string;
}

/** Issues the token the gateway stamps on every request it forwards (with its private key). */
export async function signContextToken(
  context: TenantContext,
  key: ContextTokenSigningKey,
  { ttlSeconds = 60, audience }: SignContextTokenOptions = {},
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
  const checked = contextSchema.safeParse(context);
  if (!checked.success) {
    throw new TypeError(
      `cannot sign an incomplete tenant context: ${z.prettifyError(checked.error)}`,
    );
  }
  const { tenantId, actor, requestId, correlationId, grantedPermissions } = checked.data;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    tid: tenantId,
    act: { type: actor.type, id: actor.id },
    rid: requestId,
    ...(correlationId === undefined ? {} : { cid: correlationId }),
    ...(grantedPermissions === undefined ? {} : { prm: grantedPermissions }),
  })
    .setProtectedHeader({ alg: CONTEXT_TOKEN_ALGORITHM, kid: key.kid, typ: CONTEXT_TOKEN_TYPE })
    .setIssuer(CONTEXT_TOKEN_ISSUER)
    .setJti(requestId)
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
}

function failureOf(error: unknown): ContextTokenFailure {
  if (error instanceof InvalidContextTokenError) return error.reason;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'unsupported_algorithm';
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return 'invalid_claims';
  return 'malformed';
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
  { audience, clockToleranceSeconds = 5 }: VerifyContextTokenOptions = {},
): Promise<TenantContext> {
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
    if (!claims.success || claims.data.jti !== claims.data.rid) {
      throw new InvalidContextTokenError('invalid_claims');
    }
    const { tid, act, rid, cid, prm } = claims.data;
    return {
      tenantId: tid,
      actor: { type: act.type, id: act.id },
      requestId: rid,
      ...(cid === undefined ? {} : { correlationId: cid }),
      ...(prm === undefined ? {} : { grantedPermissions: prm }),
    };
  } catch (error) {
    throw error instanceof InvalidContextTokenError
      ? error
      : new InvalidContextTokenError(failureOf(error), { cause: error });
  }
}
