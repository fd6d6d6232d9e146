import { randomUUID } from 'node:crypto';
import type { SessionRevocationReason } from '@tenantry/contracts';
import { SessionRevokedEvent } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { currentTenantContext, runWithTenantContext } from '@tenantry/tenancy';
import type { IdentityDeps } from '../identity-deps';

export interface EndedSession {
  readonly userId: string;
  /** The refresh-token family, which is the access tokens' `sid`. */
  readonly sessionId: string;
}

/**
 * Publishes `identity.session.revoked` for each ended session in the caller's transaction, so
 * the gateway refuses the sessions' access tokens from the commit on (not when they expire).
 * Public routes (logout, refresh) have no tenant context: the session's user is the actor there.
 */
export async function publishSessionsRevoked(
  deps: IdentityDeps,
  tx: TenantTransaction,
  sessions: readonly EndedSession[],
  reason: SessionRevocationReason,
  requestId: string = randomUUID(),
): Promise<void> {
  const [first] = sessions;
  if (!first) return;
  const revokedAt = new Date();
  // Any access token the session issued was issued before now, so none outlives now + TTL (plus
  // a second, as `exp` is whole seconds).
  const accessTokensExpireAt = new Date(
    revokedAt.getTime() + (deps.config.accessTokenTtlSeconds + 1) * 1000,
  );
  const publish = () =>
    deps.outbox.publishMany(
      tx,
      SessionRevokedEvent,
      sessions.map(({ userId, sessionId }) => ({
        subject: sessionId,
        data: {
          tenantId: tx.tenantId,
          userId,
          sessionId,
          reason,
          revokedAt: revokedAt.toISOString(),
          accessTokensExpireAt: accessTokensExpireAt.toISOString(),
        },
      })),
    );
  if (currentTenantContext()?.tenantId === tx.tenantId) {
    await publish();
    return;
  }
  await runWithTenantContext(
    { tenantId: tx.tenantId, actor: { type: 'user', id: first.userId }, requestId },
    publish,
  );
}
