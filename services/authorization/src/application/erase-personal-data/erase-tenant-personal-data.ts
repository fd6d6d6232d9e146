import type { TenantTransaction } from '@tenantry/db';
import { personalDataEraserOf } from '@tenantry/db';

/**
 * Removes the personal data authorization holds for the transaction's tenant: the identity
 * payloads kept in its audit log (emails, names). Roles, assignments and subjects hold ids only
 * and are purged by `PolicyRepository.purgeTenant`, which must have left the tenant's tombstone
 * (state `deleted`) in this transaction first: the eraser refuses a tenant that is not deleted.
 * Audit rows stay with actor, action, target, request id and times; a second run changes
 * nothing. Returns how many audit rows were redacted.
 *
 * The seam the offboarding saga will call; today identity.tenant.deleted calls it at once.
 */
export async function eraseTenantPersonalData(tx: TenantTransaction): Promise<number> {
  // As the owner role, through the SECURITY DEFINER seam: the app role cannot UPDATE audit rows.
  const [row] = (await tx.manager.query(
    `SELECT ${personalDataEraserOf('audit_log')}() AS changed`,
  )) as { changed: number }[];
  return row?.changed ?? 0;
}
