import { randomUUID } from 'node:crypto';
import type { TenantTransaction } from '@tenantry/db';
import { unauthorized } from '@tenantry/http';
import { tenantBoundToken } from '../../domain/secret-token';
import { RefreshTokenEntity } from '../../persistence/entities/refresh-token.entity';
import type { IdentityDeps } from '../identity-deps';

export interface SessionTokens {
  readonly tokenType: 'Bearer';
  readonly accessToken: string;
  /** Seconds. */
  readonly expiresIn: number;
  readonly refreshToken: string;
  /** Seconds. */
  readonly refreshExpiresIn: number;
  readonly tenantId: string;
  readonly userId: string;
}

/** One error for every failed sign-in, so it never tells which part was wrong. */
export const invalidCredentials = () =>
  unauthorized('The email, password or tenant is not correct.');

/**
 * Issues an access token and a refresh token for `userId` in the transaction's tenant. A new
 * session starts a refresh-token family; a refresh continues the family it came from. The family id
 * is the session id (`sid`) of the access tokens, so ending the session can refuse them too.
 */
export async function issueSession(
  deps: IdentityDeps,
  tx: TenantTransaction,
  userId: string,
  familyId: string = randomUUID(),
): Promise<SessionTokens & { refreshTokenId: string }> {
  const ttl = deps.config.refreshTokenTtlSeconds;
  const { token, hash } = tenantBoundToken.issue('rt', tx.tenantId);
  const refreshTokenId = randomUUID();
  await tx.manager.insert(RefreshTokenEntity, {
    id: refreshTokenId,
    tenantId: tx.tenantId,
    userId,
    familyId,
    tokenHash: hash,
    expiresAt: new Date(Date.now() + ttl * 1000),
  });
  const access = await deps.accessTokens.issue({
    act: 'user',
    sub: userId,
    tid: tx.tenantId,
    sid: familyId,
  });
  return {
    tokenType: 'Bearer',
    accessToken: access.accessToken,
    expiresIn: access.expiresIn,
    refreshToken: token,
    refreshExpiresIn: ttl,
    tenantId: tx.tenantId,
    userId,
    refreshTokenId,
  };
}
