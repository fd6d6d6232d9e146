import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { removesLastOwner } from '../../domain/grant-rules';
import type { AssignmentInput } from '../assign-role/assign-role';
import { refuseMissing } from '../create-role/create-role';
import { heldPermissions } from '../policy-actor';
import { PolicyChangeRefusedError } from '../policy-change-refused-error';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

/**
 * Takes a role from a member or API key. Taking is as privileged as giving (an admin cannot
 * demote an owner), and the tenant's last owner keeps the role. The policy lock taken first makes
 * two concurrent demotions of the last two owners run one after the other.
 */
export async function revokeRole(
  tx: TenantTransaction,
  deps: PolicyUseCaseDeps,
  actor: Actor,
  input: AssignmentInput,
): Promise<void> {
  const { repository, recorder } = deps;
  await repository.bumpVersion(tx);
  const role = await repository.findRole(tx, input.role);
  if (!role) throw new PolicyChangeRefusedError('not-found', `No role "${input.role}".`);
  refuseMissing(await heldPermissions(tx, repository, actor), [
    'roles:assign',
    ...role.permissions,
  ]);
  if (!(await repository.revoke(tx, input.subjectType, input.subjectId, input.role))) {
    throw new PolicyChangeRefusedError('not-found', 'The subject does not hold this role.');
  }
  if (removesLastOwner(input.role, input.subjectType, await repository.countUserOwners(tx))) {
    throw new PolicyChangeRefusedError('conflict', 'The last owner of a tenant cannot be removed.');
  }
  await recorder.revoked(tx, input.subjectType, input.subjectId, input.role);
  await recorder.policyChanged(tx, 'assignment');
}
