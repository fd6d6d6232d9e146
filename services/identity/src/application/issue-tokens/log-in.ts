import { withTenant } from '@tenantry/db';
import { HttpProblem, forbidden } from '@tenantry/http';
import { normalizeEmail } from '../../domain/email-address';
import { isUuid } from '../../domain/uuid';
import { MembershipEntity } from '../../persistence/entities/membership.entity';
import type { TenantStatus } from '../../persistence/entities/tenant.entity';
import { UserEntity } from '../../persistence/entities/user.entity';
import type { IdentityDeps } from '../identity-deps';
import type { SessionTokens } from './session-issuer';
import { invalidCredentials, issueSession } from './session-issuer';

export interface LogInInput {
  readonly email: string;
  readonly password: string;
  /** Tenant id or slug; needed when the user belongs to several tenants. */
  readonly tenant?: string | undefined;
}

interface UserTenantRow {
  id: string;
  name: string;
  slug: string;
  status: TenantStatus;
}

/**
 * Password login into one tenant. Attempts count per account and per IP (429 once spent), and
 * unknown email, wrong password and a tenant the user is not in all get the same 401.
 */
export async function logIn(
  deps: IdentityDeps,
  input: LogInInput,
  clientIp: string,
): Promise<SessionTokens> {
  const email = normalizeEmail(input.email);
  // Spent before the password is checked: parallel guesses cannot all pass one check.
  await deps.loginLimiter.consumeAttempt(email, clientIp);
  const user = await deps.dataSource.manager.findOneBy(UserEntity, { email });
  if (!(await deps.passwords.verify(user?.passwordHash, input.password)) || !user) {
    throw invalidCredentials();
  }
  const tenants = (await deps.dataSource.query(
    `SELECT t.id, t.name, t.slug, t.status FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_id
     WHERE ut.user_id = $1 AND t.status NOT IN ('purging', 'deleted') ORDER BY t.created_at`,
    [user.id],
  )) as UserTenantRow[];
  let tenant: UserTenantRow | undefined;
  if (input.tenant !== undefined) {
    const wanted = input.tenant.toLowerCase();
    tenant = tenants.find((t) => (isUuid(wanted) ? t.id === wanted : t.slug === wanted));
  } else if (tenants.length > 1) {
    throw new HttpProblem({
      status: 409,
      title: 'Tenant required',
      slug: 'tenant-required',
      detail: 'This account belongs to several tenants; name one in `tenant`.',
      extensions: { tenants: tenants.map(({ id, name, slug }) => ({ tenantId: id, name, slug })) },
    });
  } else {
    tenant = tenants[0];
  }
  if (!tenant) throw invalidCredentials();
  // Only someone who proved the password learns that the tenant is suspended.
  if (tenant.status !== 'active') throw forbidden('This tenant is suspended.');
  await deps.loginLimiter.recordSuccess(email, clientIp);
  const { refreshTokenId: _id, ...tokens } = await withTenant(
    deps.dataSource,
    tenant.id,
    async (tx) => {
      const member = await tx.manager.findOneBy(MembershipEntity, { userId: user.id });
      if (!member) throw invalidCredentials();
      return issueSession(deps, tx, user.id);
    },
  );
  return tokens;
}
