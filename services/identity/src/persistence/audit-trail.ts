import { randomUUID } from 'node:crypto';
import type { TenantTransaction } from '@tenantry/db';
import { requireTenantContext } from '@tenantry/tenancy';

export interface AuditEntry {
  /** `<entity>.<verb>`, e.g. `invitation.created`. */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly details?: Record<string, unknown>;
}

/**
 * Writes an audit record in the caller's tenant transaction (table: AuditLogEntity): the actor (user, key or platform
 * operator) and request come from the verified context, the tenant from the transaction, so an
 * operator's action inside a tenant is recorded with both identities.
 */
export async function recordAudit(tx: TenantTransaction, entry: AuditEntry): Promise<void> {
  const context = requireTenantContext(`auditing ${entry.action}`);
  await tx.manager.query(
    `INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, action, target_type, target_id,
       request_id, correlation_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      randomUUID(),
      tx.tenantId,
      context.actor.type,
      context.actor.id,
      entry.action,
      entry.targetType,
      entry.targetId,
      context.requestId,
      context.correlationId ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
}
