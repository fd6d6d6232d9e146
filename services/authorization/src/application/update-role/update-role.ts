import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import type { RoleView } from '../../persistence/policy-repository';
import type { RoleInput } from '../create-role/create-role';
import { refuseMissing, refuseUnknownPermissions } from '../create-role/create-role';
import { heldPermissions } from '../policy-actor';
import { PolicyChangeRefusedError } from '../policy-change-refused-error';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

/**
 * Replaces a custom role's description and permissions. The actor must hold every permission the
 * role had and will have: taking a permission away is as privileged as granting it.
 */
export async function updateRole(
  tx: TenantTransaction,
  deps: PolicyUseCaseDeps,
  actor: Actor,
  input: RoleInput,
): Promise<RoleView> {
  const { repository, recorder } = deps;
  await repository.bumpVersion(tx);
  const before = await repository.findRole(tx, input.name);
  if (!before) throw new PolicyChangeRefusedError('not-found', `No role "${input.name}".`);
  if (before.builtIn) {
    throw new PolicyChangeRefusedError('forbidden', 'Built-in roles cannot be changed.');
  }
  refuseUnknownPermissions(input.permissions);
  refuseMissing(await heldPermissions(tx, repository, actor), [
    'roles:manage',
    ...before.permissions,
    ...input.permissions,
  ]);
  await repository.replaceRole(tx, input);
  const after = (await repository.findRole(tx, input.name)) as RoleView;
  await recorder.roleChanged(tx, 'role.updated', input.name, before, after);
  return after;
}
