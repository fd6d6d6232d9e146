import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import type { AssignableSubjectType } from '../../domain/policy-subject';
import { refuseMissing } from '../create-role/create-role';
import { heldPermissions } from '../policy-actor';
import { PolicyChangeRefusedError } from '../policy-change-refused-error';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

export interface AssignmentInput {
  readonly subjectType: AssignableSubjectType;
  readonly subjectId: string;
  readonly role: string;
}

/**
 * Gives a member or API key of the tenant a role. The actor must hold every permission of the
 * role (so an admin cannot make anyone owner). Idempotent: `created` is false when it was held.
 */
export async function assignRole(
  tx: TenantTransaction,
  deps: PolicyUseCaseDeps,
  actor: Actor,
  input: AssignmentInput,
): Promise<{ created: boolean }> {
  const { repository, recorder } = deps;
  await repository.bumpVersion(tx);
  const role = await repository.findRole(tx, input.role);
  if (!role) throw new PolicyChangeRefusedError('not-found', `No role "${input.role}".`);
  refuseMissing(await heldPermissions(tx, repository, actor), [
    'roles:assign',
    ...role.permissions,
  ]);
  if (!(await repository.isActiveSubject(tx, input.subjectType, input.subjectId))) {
    throw new PolicyChangeRefusedError(
      'not-found',
      input.subjectType === 'user'
        ? 'No such member in this tenant.'
        : 'No such API key in this tenant.',
    );
  }
  const created = await repository.assign(tx, input.subjectType, input.subjectId, input.role);
  if (created) {
    await recorder.assigned(tx, input.subjectType, input.subjectId, input.role);
    await recorder.policyChanged(tx, 'assignment');
  }
  return { created };
}
