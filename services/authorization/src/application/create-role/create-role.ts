import type { TenantTransaction } from '@tenantry/db';
import { isCataloguePermission } from '@tenantry/contracts';
import type { Actor } from '@tenantry/tenancy';
import { isBuiltInRole } from '../../domain/built-in-roles';
import { missingPermissions } from '../../domain/grant-rules';
import type { RoleView } from '../../persistence/policy-repository';
import { heldPermissions } from '../policy-actor';
import { PolicyChangeRefusedError } from '../policy-change-refused-error';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

export interface RoleInput {
  readonly name: string;
  readonly description: string;
  readonly permissions: readonly string[];
}

export function refuseUnknownPermissions(permissions: readonly string[]): void {
  const unknown = permissions.filter((permission) => !isCataloguePermission(permission));
  if (unknown.length > 0) {
    throw new PolicyChangeRefusedError('invalid', 'Some permissions are not in the catalogue.', {
      unknownPermissions: unknown,
    });
  }
}

export function refuseMissing(held: ReadonlySet<string>, wanted: Iterable<string>): void {
  const missing = missingPermissions(held, wanted);
  if (missing.length > 0) {
    throw new PolicyChangeRefusedError(
      'forbidden',
      'Nobody can grant or take away a permission they do not hold themselves.',
      { missingPermissions: missing },
    );
  }
}

/** A tenant's custom role, from the catalogue, by someone who holds every permission in it. */
export async function createRole(
  tx: TenantTransaction,
  deps: PolicyUseCaseDeps,
  actor: Actor,
  input: RoleInput,
): Promise<RoleView> {
  const { repository, recorder } = deps;
  await repository.bumpVersion(tx);
  if (!(await repository.ensureTenant(tx))) {
    throw new PolicyChangeRefusedError('not-found', 'This tenant no longer exists.');
  }
  if (isBuiltInRole(input.name)) {
    throw new PolicyChangeRefusedError('conflict', `"${input.name}" is a built-in role.`);
  }
  refuseUnknownPermissions(input.permissions);
  refuseMissing(await heldPermissions(tx, repository, actor), [
    'roles:manage',
    ...input.permissions,
  ]);
  if (await repository.findRole(tx, input.name)) {
    throw new PolicyChangeRefusedError('conflict', `A role "${input.name}" exists already.`);
  }
  await repository.insertRole(tx, input);
  const created = (await repository.findRole(tx, input.name)) as RoleView;
  await recorder.roleChanged(tx, 'role.created', input.name, null, created);
  return created;
}
