import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { refuseMissing } from '../create-role/create-role';
import { heldPermissions } from '../policy-actor';
import { PolicyChangeRefusedError } from '../policy-change-refused-error';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

/** Deletes a custom role nobody holds any more. Built-in roles cannot be deleted. */
export async function deleteRole(
  tx: TenantTransaction,
  deps: PolicyUseCaseDeps,
  actor: Actor,
  name: string,
): Promise<void> {
  const { repository, recorder } = deps;
  await repository.bumpVersion(tx);
  const before = await repository.findRole(tx, name);
  if (!before) throw new PolicyChangeRefusedError('not-found', `No role "${name}".`);
  if (before.builtIn) {
    throw new PolicyChangeRefusedError('forbidden', 'Built-in roles cannot be deleted.');
  }
  refuseMissing(await heldPermissions(tx, repository, actor), [
    'roles:manage',
    ...before.permissions,
  ]);
  const holders = await repository.countAssignmentsOf(tx, name);
  if (holders > 0) {
    throw new PolicyChangeRefusedError(
      'conflict',
      `The role is still assigned ${holders} time(s); revoke it first.`,
      { assignments: holders },
    );
  }
  await repository.deleteRole(tx, name);
  await recorder.roleChanged(tx, 'role.deleted', name, before, null);
}
