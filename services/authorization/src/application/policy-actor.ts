import type { Actor } from '@tenantry/tenancy';
import { isAssignableSubjectType } from '../domain/policy-subject';
import type { PolicyRepository } from '../persistence/policy-repository';
import type { TenantTransaction } from '@tenantry/db';

/**
 * What the acting subject holds right now, read in the change's own transaction (never from a
 * cache, so a just-revoked admin cannot use a stale grant). Operators and services hold nothing.
 */
export async function heldPermissions(
  tx: TenantTransaction,
  repository: PolicyRepository,
  actor: Actor,
): Promise<ReadonlySet<string>> {
  if (!isAssignableSubjectType(actor.type)) return new Set();
  return repository.permissionsOf(tx, actor.type, actor.id);
}
