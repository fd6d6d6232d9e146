import { withTenant } from '@tenantry/db';
import { sha256, tenantBoundToken } from '../../domain/secret-token';
import { changedRows } from '../../persistence/changed-rows';
import type { IdentityDeps } from '../identity-deps';
import { publishSessionsRevoked } from './session-revocation-publisher';

/**
 * Ends the session the refresh token belongs to (its whole family) and, through the
 * session-revoked event, its access tokens at the gateway. Answers the same whether or not the
 * token was known, so logout cannot be used to probe tokens.
 */
export async function logOut(deps: IdentityDeps, token: string, requestId?: string): Promise<void> {
  const parsed = tenantBoundToken.parse('rt', token);
  if (!parsed) return;
  await withTenant(deps.dataSource, parsed.tenantId, async (tx) => {
    const ended = changedRows<{ user_id: string; family_id: string }>(
      await tx.manager.query(
        `UPDATE refresh_tokens SET revoked_at = now()
         WHERE revoked_at IS NULL
           AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
         RETURNING user_id, family_id`,
        [sha256(parsed.secret)],
      ),
    );
    // A family already ended (logout twice, reuse detected) published its event then.
    const [session] = ended;
    if (!session) return;
    await publishSessionsRevoked(
      deps,
      tx,
      [{ userId: session.user_id, sessionId: session.family_id }],
      'logout',
      requestId,
    );
  });
}
