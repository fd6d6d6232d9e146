import { TenantDeletedEvent, UserDeletedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { notFound } from '@tenantry/http';
import { recordAudit } from '../../persistence/audit-trail';
import { changedRows } from '../../persistence/changed-rows';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';

// Tenant tables, purged inside the tenant's transaction (row-level security scopes each DELETE;
// the explicit filter says the same for the reader).
// Not `audit_log`: it is append-only for this role (ADR 0008). Erasing the personal data in a
// deleted tenant's audit rows is a separate, owner-run path (the offboarding saga, still to come).
const TENANT_TABLES = ['memberships', 'invitations', 'api_keys', 'refresh_tokens'];

/**
 * Offboarding, as a platform operator: purges identity's data of the tenant, leaves a tombstone
 * in the registry (status `deleted`, name scrubbed) and publishes the event that tells every
 * other service to purge theirs. Users who belonged to no other tenant are deleted too.
 */
export async function deleteTenant(
  deps: IdentityDeps,
  tenantId: string,
): Promise<{ tenantId: string; status: 'deleted' }> {
  await authorizeOperator(deps, 'tenant:delete');
  return actInTenant(tenantId, () =>
    withTenant(deps.dataSource, tenantId, async (tx) => {
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!tenant) throw notFound('No such tenant.');
      if (tenant.status === 'deleted') return { tenantId, status: 'deleted' as const };
      const members = (await tx.manager.query(
        `SELECT user_id FROM user_tenants WHERE tenant_id = $1`,
        [tenantId],
      )) as { user_id: string }[];
      for (const table of TENANT_TABLES) {
        await tx.manager.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      }
      await tx.manager.query(`DELETE FROM api_key_prefixes WHERE tenant_id = $1`, [tenantId]);
      await tx.manager.query(`DELETE FROM user_tenants WHERE tenant_id = $1`, [tenantId]);
      const erased = changedRows<{ id: string }>(
        await tx.manager.query(
          `DELETE FROM users u WHERE u.id = ANY($1::uuid[])
             AND NOT EXISTS (SELECT 1 FROM user_tenants ut WHERE ut.user_id = u.id)
           RETURNING u.id`,
          [members.map((member) => member.user_id)],
        ),
      );
      const deletedAt = new Date();
      await deps.outbox.publishMany(
        tx,
        UserDeletedEvent,
        erased.map((user) => ({
          subject: user.id,
          data: { userId: user.id, tenantId, deletedAt: deletedAt.toISOString() },
        })),
      );
      await tx.manager.update(
        TenantEntity,
        { id: tenantId },
        {
          status: 'deleted',
          name: '',
          slug: `deleted-${tenantId}`,
          statusReason: null,
          statusChangedAt: deletedAt,
        },
      );
      // Written after the purge: the one record kept of the tenant is who deleted it, and when.
      await recordAudit(tx, { action: 'tenant.deleted', targetType: 'tenant', targetId: tenantId });
      await deps.outbox.publish(tx, TenantDeletedEvent, {
        subject: tenantId,
        data: { tenantId, deletedAt: deletedAt.toISOString() },
      });
      return { tenantId, status: 'deleted' as const };
    }),
  );
}
