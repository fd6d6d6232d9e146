import type { BuiltInRole } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { forbidden } from '@tenantry/http';
import type { Actor } from '@tenantry/tenancy';
import { requireTenantContext } from '@tenantry/tenancy';
import type { TenantPermission } from '../domain/access-policy';
import { accessPolicy } from '../domain/access-policy';
import { isUuid } from '../domain/uuid';
import { ApiKeyEntity } from '../persistence/entities/api-key.entity';
import { MembershipEntity } from '../persistence/entities/membership.entity';
import { TenantEntity } from '../persistence/entities/tenant.entity';

export interface TenantActor {
  readonly actor: Actor;
  readonly role: BuiltInRole;
  /**
   * The gateway verified the route's permission with the authorization service (which owns
   * custom roles and later role changes), so it holds whatever the membership role says.
   */
  readonly grantedByAuthorization: boolean;
}

/**
 * Who is acting in this tenant transaction, with their current role read from the data (not
 * from the token, so a removal or revocation counts at once), and whether the role allows
 * `permission`. Refuses with 403 when the tenant is not active or the actor may not act.
 */
export async function authorizeTenantActor(
  tx: TenantTransaction,
  permission: TenantPermission | 'authenticated',
): Promise<TenantActor> {
  const { actor, grantedPermissions } = requireTenantContext('a tenant route');
  if (!isUuid(tx.tenantId) || !isUuid(actor.id)) {
    throw forbidden('The caller is not a member of this tenant.');
  }
  // Key-share lock: a suspension or deletion (FOR UPDATE) waits for this transaction, or this
  // waits and sees the new status, so nothing is written into a tenant being erased.
  const tenant = await tx.manager.findOne(TenantEntity, {
    where: { id: tx.tenantId },
    lock: { mode: 'for_key_share' },
  });
  if (!tenant) throw forbidden('This tenant does not exist.');
  if (tenant.status !== 'active') throw forbidden(`This tenant is ${tenant.status}.`);
  let role: BuiltInRole | undefined;
  if (actor.type === 'user') {
    role = (
      await tx.manager.findOneBy(MembershipEntity, { tenantId: tx.tenantId, userId: actor.id })
    )?.role;
  } else if (actor.type === 'api_key') {
    const key = await tx.manager.findOneBy(ApiKeyEntity, { id: actor.id });
    const usable = key && !key.revokedAt && (!key.expiresAt || key.expiresAt > new Date());
    role = usable ? key.role : undefined;
  }
  if (!role) throw forbidden('The caller is not a member of this tenant.');
  const grantedByAuthorization =
    permission !== 'authenticated' &&
    (grantedPermissions ?? []).includes(accessPolicy.catalogueNameOf(permission));
  if (
    permission !== 'authenticated' &&
    !grantedByAuthorization &&
    !accessPolicy.tenantRoleAllows(role, permission)
  ) {
    throw forbidden(`This needs the ${permission} permission.`);
  }
  return { actor, role, grantedByAuthorization };
}
