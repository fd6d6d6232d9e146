import type { TenantTransaction } from '@tenantry/db';
import { personalDataEraserOf } from '@tenantry/db';
import { changedRows } from '../../persistence/changed-rows';

// Tenant tables, purged inside the tenant's transaction (row-level security scopes each DELETE;
// the explicit filter says the same for the reader). Not `audit_log`: it is append-only, its
// rows stay and only their personal fields are redacted (docs/adr/0013).
const TENANT_TABLES = ['memberships', 'invitations', 'api_keys', 'refresh_tokens'];

export interface ErasedTenantData {
  /** Accounts deleted because this was their last tenant (each owes a UserDeleted event). */
  readonly erasedUserIds: string[];
  readonly auditRowsRedacted: number;
  readonly outboxRowsDropped: number;
}

/**
 * Removes every piece of personal data identity holds for the transaction's tenant (inventory
 * in docs/adr/0013). The tenant must already be marked purging (or deleted) in this transaction:
 * the audit log's eraser refuses otherwise. Users who still belong to another tenant keep their account,
 * email and name. Safe to run again: a second run finds nothing left to change.
 *
 * The offboarding saga calls it at the end of the grace period (`startTenantPurge`, in the
 * transaction that marks the tenant purging; docs/adr/0016).
 */
export async function eraseTenantPersonalData(tx: TenantTransaction): Promise<ErasedTenantData> {
  const tenantId = tx.tenantId;
  const members = (await tx.manager.query(`SELECT user_id FROM user_tenants WHERE tenant_id = $1`, [
    tenantId,
  ])) as { user_id: string }[];
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
  // The registry row stays as a tombstone (ids and status only): its name may name a person.
  await tx.manager.query(
    `UPDATE tenants SET name = '', slug = 'deleted-' || id::text, status_reason = NULL
      WHERE id = $1`,
    [tenantId],
  );
  // As the owner role, through the SECURITY DEFINER seam: the app role cannot UPDATE audit rows.
  const [audit] = (await tx.manager.query(
    `SELECT ${personalDataEraserOf('audit_log')}() AS changed`,
  )) as { changed: number }[];
  // Published events are in Kafka already (bounded by its retention); their copies here would
  // otherwise keep invitee and member emails until the relay prunes them. Unsent rows still go.
  const dropped = changedRows<{ id: string }>(
    await tx.manager.query(
      `DELETE FROM event_outbox WHERE tenant_id = $1 AND published_at IS NOT NULL RETURNING id`,
      [tenantId],
    ),
  );
  return {
    erasedUserIds: erased.map((user) => user.id),
    auditRowsRedacted: audit?.changed ?? 0,
    outboxRowsDropped: dropped.length,
  };
}
