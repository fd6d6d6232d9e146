import { ApiKeyRevokedEvent } from '@tenantry/contracts';
import { withCurrentTenant } from '@tenantry/db';
import { forbidden, notFound } from '@tenantry/http';
import { accessPolicy } from '../../domain/access-policy';
import { recordAudit } from '../../persistence/audit-trail';
import { ApiKeyEntity } from '../../persistence/entities/api-key.entity';
import type { IdentityDeps } from '../identity-deps';
import { authorizeTenantActor } from '../tenant-access';

/**
 * Revokes a key of the current tenant: verification refuses it from the commit on, and the
 * event lets the gateway drop any cached verification at once. Revoking twice is a no-op.
 */
export async function revokeApiKey(deps: IdentityDeps, apiKeyId: string): Promise<void> {
  await withCurrentTenant(deps.dataSource, async (tx) => {
    const who = await authorizeTenantActor(tx, 'api-keys:revoke');
    const key = await tx.manager.findOne(ApiKeyEntity, {
      where: { id: apiKeyId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!key) throw notFound('No such API key.');
    if (!accessPolicy.canManageRole(who.role, key.role)) {
      throw forbidden(`A ${who.role} cannot revoke a key with the ${key.role} role.`);
    }
    if (key.revokedAt) return;
    const revokedAt = new Date();
    await tx.manager.update(ApiKeyEntity, { id: apiKeyId }, { revokedAt });
    await recordAudit(tx, {
      action: 'api-key.revoked',
      targetType: 'api_key',
      targetId: apiKeyId,
      details: { prefix: key.prefix },
    });
    await deps.outbox.publish(tx, ApiKeyRevokedEvent, {
      subject: apiKeyId,
      data: {
        apiKeyId,
        tenantId: tx.tenantId,
        prefix: key.prefix,
        revokedAt: revokedAt.toISOString(),
      },
    });
  });
}
