import { withTenant } from '@tenantry/db';
import { forbidden } from '@tenantry/http';
import { sha256, tenantBoundToken } from '../../domain/secret-token';
import { isErased, publicStatusOf } from '../../domain/tenant-lifecycle';
import { changedRows } from '../../persistence/changed-rows';
import { MembershipEntity } from '../../persistence/entities/membership.entity';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import type { SessionTokens } from './session-issuer';
import { invalidCredentials, issueSession } from './session-issuer';
import { publishSessionsRevoked } from './session-revocation-publisher';

type Outcome =
  | { kind: 'rotated'; tokens: SessionTokens }
  | { kind: 'refused' }
  | { kind: 'reused'; familyId: string; userId: string };

/**
 * Exchanges a refresh token for a new pair and revokes the one presented. Presenting a revoked
 * token again means it leaked (or the rotation raced with a thief): the whole family is revoked,
 * and that revocation commits even though the request is refused, with the event that makes the
 * gateway refuse the session's access tokens too.
 */
export async function refreshSession(
  deps: IdentityDeps,
  token: string,
  requestId?: string,
): Promise<SessionTokens> {
  const parsed = tenantBoundToken.parse('rt', token);
  if (!parsed) throw invalidCredentials();
  const tokenHash = sha256(parsed.secret);
  const outcome = await withTenant(
    deps.dataSource,
    parsed.tenantId,
    async (tx): Promise<Outcome> => {
      const tenant = await tx.manager.findOneBy(TenantEntity, { id: tx.tenantId });
      if (!tenant || isErased(tenant.status)) return { kind: 'refused' };
      // Checked before rotating, so the token still works once the tenant is resumed.
      if (publicStatusOf(tenant.status) === 'suspended')
        throw forbidden('This tenant is suspended.');
      const [current] = changedRows<{ id: string; user_id: string; family_id: string }>(
        await tx.manager.query(
          `UPDATE refresh_tokens SET revoked_at = now()
           WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
           RETURNING id, user_id, family_id`,
          [tokenHash],
        ),
      );
      if (!current) {
        const [spent] = (await tx.manager.query(
          `SELECT family_id, user_id FROM refresh_tokens
           WHERE token_hash = $1 AND revoked_at IS NOT NULL`,
          [tokenHash],
        )) as { family_id: string; user_id: string }[];
        if (!spent) return { kind: 'refused' };
        const live = changedRows<{ id: string }>(
          await tx.manager.query(
            `UPDATE refresh_tokens SET revoked_at = now()
             WHERE family_id = $1 AND revoked_at IS NULL RETURNING id`,
            [spent.family_id],
          ),
        );
        // Nothing live means the session already ended (and said so); replays stay quiet.
        if (live.length > 0) {
          await publishSessionsRevoked(
            deps,
            tx,
            [{ userId: spent.user_id, sessionId: spent.family_id }],
            'refresh-token-reuse',
            requestId,
          );
        }
        return { kind: 'reused', familyId: spent.family_id, userId: spent.user_id };
      }
      const member = await tx.manager.findOneBy(MembershipEntity, { userId: current.user_id });
      if (!member) return { kind: 'refused' };
      const { refreshTokenId, ...tokens } = await issueSession(
        deps,
        tx,
        current.user_id,
        current.family_id,
      );
      await tx.manager.query(`UPDATE refresh_tokens SET replaced_by = $1 WHERE id = $2`, [
        refreshTokenId,
        current.id,
      ]);
      return { kind: 'rotated', tokens };
    },
  );
  if (outcome.kind === 'reused') {
    deps.logger.warn('revoked refresh token presented again; its session is revoked', {
      tenant_id: parsed.tenantId,
      user_id: outcome.userId,
      family_id: outcome.familyId,
    });
  }
  if (outcome.kind !== 'rotated') throw invalidCredentials();
  return outcome.tokens;
}
