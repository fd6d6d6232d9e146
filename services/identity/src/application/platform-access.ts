import { forbidden } from '@tenantry/http';
import { requireTenantContext, runWithTenantContext } from '@tenantry/tenancy';
import type { PlatformPermission } from '../domain/access-policy';
import { accessPolicy } from '../domain/access-policy';
import { isUuid } from '../domain/uuid';
import type { OperatorEntity } from '../persistence/entities/operator.entity';
import { OperatorEntity as Operator } from '../persistence/entities/operator.entity';
import type { IdentityDeps } from './identity-deps';

/** The calling platform operator, if their role allows `permission`; 403 for anyone else. */
export async function authorizeOperator(
  deps: IdentityDeps,
  permission: PlatformPermission,
): Promise<OperatorEntity> {
  const { actor } = requireTenantContext('a platform route');
  if (actor.type !== 'operator' || !isUuid(actor.id)) {
    throw forbidden('Only platform operators may do this.');
  }
  const operator = await deps.dataSource.manager.findOneBy(Operator, { id: actor.id });
  if (!operator || operator.disabledAt) throw forbidden('This operator account is not active.');
  if (!accessPolicy.operatorRoleAllows(operator.role, permission)) {
    throw forbidden(`This needs the ${permission} permission.`);
  }
  return operator;
}

/**
 * Runs an operator's work inside the tenant it targets, explicitly: the context keeps the
 * operator as actor and takes the target as tenant, so audit records and events carry both.
 */
export function actInTenant<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  const context = requireTenantContext('acting in a tenant');
  return runWithTenantContext({ ...context, tenantId }, work);
}
