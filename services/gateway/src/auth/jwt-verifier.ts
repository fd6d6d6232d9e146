import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { IdentityUnavailableError, PLATFORM_TENANT_ID } from './identity-client';
import type { AuthenticatedActor } from './authenticated-actor';

export interface JwtVerifierOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly clockToleranceSeconds: number;
  /** Sessions ended at identity (logout...): their tokens' `sid` is refused until they expire. */
  readonly revokedSessions?: { has(sessionId: string): boolean };
  /**
   * How long a verified token is remembered (by its exact text), so a client's next calls skip
   * the signature check; never past the token's `exp`, never longer than `cacheMaxAgeMs`.
   * Default {@link VERIFIED_TOKEN_CACHE_MS}; 0 turns the cache off.
   */
  readonly verifiedCacheMs?: number;
  /** Tokens remembered at most (least recently used dropped first). */
  readonly verifiedCacheSize?: number;
}

/**
 * A verified token is remembered this long: ES256 verification was the gateway's largest single
 * CPU item per request (bench/README.md, gateway profile), and most clients send the same token
 * for minutes. Short, because a key identity deleted is refused only once both this cache and the
 * key set (`cacheMaxAgeMs`) have let go of it.
 */
export const VERIFIED_TOKEN_CACHE_MS = 5_000;

/** Why a token was refused: for logs and metrics only, never for the client. */
export class InvalidAccessTokenError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid access token (${reason})`, options);
    this.name = 'InvalidAccessTokenError';
  }
}

export class OperatorTenantRequiredError extends Error {
  constructor() {
    super('an operator must name the tenant it acts in');
    this.name = 'OperatorTenantRequiredError';
  }
}

const id = z.string().min(1).max(200);
const tenantId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

// `sid` is optional: tokens issued before identity stamped it still work until they expire.
const userClaims = z.object({
  act: z.literal('user'),
  sub: id,
  tid: tenantId,
  jti: id,
  sid: id.optional(),
});
const operatorClaims = z.object({ act: z.literal('operator'), sub: id, jti: id });

/** Identity's only signing algorithm (contract); pinned so a token's header cannot choose. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256'];

/**
 * Verifies identity's access tokens against its JWKS. The key set is cached (`cacheMaxAgeMs`) and
 * fetched again on an unknown `kid` (at most once per `cooldownMs`), so a rotated-in key works
 * within seconds and a deleted key stops working within `cacheMaxAgeMs` plus the few seconds a
 * verified token is remembered ({@link VERIFIED_TOKEN_CACHE_MS}). The claims are checked on every
 * call, remembered or not: a token whose session identity ended (`sid` on the revocation list) is
 * refused as soon as the event arrived.
 */
export class JwtVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;
  /** Verified payloads by token text, each until min(exp, verified + cacheMs). */
  private readonly verified: LRUCache<string, { payload: Record<string, unknown>; until: number }>;
  private readonly cacheMs: number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUrl), {
      cacheMaxAge: options.cacheMaxAgeMs,
      cooldownDuration: options.cooldownMs,
      timeoutDuration: options.timeoutMs,
    });
    this.cacheMs = Math.min(
      options.verifiedCacheMs ?? VERIFIED_TOKEN_CACHE_MS,
      options.cacheMaxAgeMs,
    );
    this.verified = new LRUCache({ max: options.verifiedCacheSize ?? 10_000 });
  }

  /** The token's verified payload: remembered, or checked against the key set now. */
  private async payloadOf(token: string): Promise<Record<string, unknown>> {
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit && hit.until > now) return hit.payload;
    const { payload } = await jwtVerify(token, this.keys, {
      algorithms: ACCESS_TOKEN_ALGORITHMS,
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    if (this.cacheMs > 0 && typeof payload.exp === 'number') {
      const until = Math.min(payload.exp * 1000, now + this.cacheMs);
      if (until > now) this.verified.set(token, { payload, until });
    }
    return payload;
  }

  /**
   * The actor a token speaks for. `operatorTenant` is the tenant an operator names (header
   * `x-operator-tenant`); it is ignored for every other actor.
   */
  async verify(token: string, operatorTenant: string | undefined): Promise<AuthenticatedActor> {
    let payload: Record<string, unknown>;
    try {
      payload = await this.payloadOf(token);
    } catch (error) {
      // No key set to check against is identity's outage, not the client's fault: fail closed
      // with 503 rather than telling a valid client its token is bad.
      if (isKeySetUnavailable(error)) {
        throw new IdentityUnavailableError('the JWKS could not be fetched', { cause: error });
      }
      throw new InvalidAccessTokenError(reasonOf(error), { cause: error });
    }
    const user = userClaims.safeParse(payload);
    if (user.success) {
      if (user.data.sid !== undefined && this.options.revokedSessions?.has(user.data.sid)) {
        throw new InvalidAccessTokenError('session revoked');
      }
      return {
        tenantId: user.data.tid,
        actor: { type: 'user', id: user.data.sub },
        credential: 'jwt',
      };
    }
    const operator = operatorClaims.safeParse(payload);
    if (operator.success && payload.tid === undefined) {
      // Operators have no tenant of their own. Inside a tenant they must name it; the actor stays
      // the operator, so the service and its audit records see both who acted and where.
      let tenant = PLATFORM_TENANT_ID;
      if (operatorTenant !== undefined) {
        const named = tenantId.safeParse(operatorTenant);
        if (!named.success) throw new OperatorTenantRequiredError();
        tenant = named.data;
      }
      return {
        tenantId: tenant,
        actor: { type: 'operator', id: operator.data.sub },
        credential: 'jwt',
      };
    }
    throw new InvalidAccessTokenError('claims');
  }
}

function isKeySetUnavailable(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return true;
  // Network failures surface as plain errors; a non-200 answer as jose's generic error.
  if (!(error instanceof joseErrors.JOSEError)) return !(error instanceof TypeError);
  return error.code === 'ERR_JOSE_GENERIC';
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim}`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'unknown key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSEError) {
    return error.code;
  }
  return 'malformed';
}
