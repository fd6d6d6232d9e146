import { withTenant } from '@tenantry/db';
import { sha256, tenantBoundToken } from '../../domain/secret-token';
import type { IdentityDeps } from '../identity-deps';

/**
 * Ends the session the refresh token belongs to (its whole family). Answers the same whether or
 * not the token was known, so logout cannot be used to probe tokens.
 */
export async function logOut(deps: IdentityDeps, token: string): Promise<void> {
  const parsed = tenantBoundToken.parse('rt', token);
  if (!parsed) return;
  await withTenant(deps.dataSource, parsed.tenantId, async (tx) => {
    await tx.manager.query(
      `UPDATE refresh_tokens SET revoked_at = now()
       WHERE revoked_at IS NULL
         AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [sha256(parsed.secret)],
    );
  });
}
