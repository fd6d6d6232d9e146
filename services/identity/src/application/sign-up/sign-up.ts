import { randomBytes, randomUUID } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import { MembershipAddedEvent, TenantCreatedEvent, UserRegisteredEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { conflict } from '@tenantry/http';
import { runWithTenantContext } from '@tenantry/tenancy';
import { normalizeEmail } from '../../domain/email-address';
import { recordAudit } from '../../persistence/audit-trail';
import { MembershipEntity } from '../../persistence/entities/membership.entity';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import { UserTenantEntity } from '../../persistence/entities/user-tenant.entity';
import { UserEntity } from '../../persistence/entities/user.entity';
import { invalidCredentials } from '../issue-tokens/session-issuer';
import type { IdentityDeps } from '../identity-deps';

export interface SignUpInput {
  readonly tenantName: string;
  readonly tenantSlug?: string | undefined;
  readonly email: string;
  readonly password: string;
  readonly displayName: string;
}

export interface SignUpResult {
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly userId: string;
  readonly role: 'owner';
}

export function slugFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug.length >= 3 ? slug : `tenant-${randomBytes(3).toString('hex')}`;
}

function uniqueViolation(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' ? (driverError.constraint ?? 'unique') : undefined;
}

/**
 * Creates a tenant and its owner in one transaction, with their events. An email that already
 * has an account joins as owner of the new tenant only with that account's password (checked
 * under the same failure limits as login).
 */
export async function signUp(
  deps: IdentityDeps,
  input: SignUpInput,
  meta: { requestId: string; clientIp: string },
): Promise<SignUpResult> {
  const email = normalizeEmail(input.email);
  const existing = await deps.dataSource.manager.findOneBy(UserEntity, { email });
  if (existing) {
    await deps.loginLimiter.consumeAttempt(email, meta.clientIp);
    if (!(await deps.passwords.verify(existing.passwordHash, input.password))) {
      throw invalidCredentials();
    }
    await deps.loginLimiter.recordSuccess(email, meta.clientIp);
  }
  const passwordHash = existing ? undefined : await deps.passwords.hash(input.password);
  const tenantId = randomUUID();
  const userId = existing?.id ?? randomUUID();
  const explicitSlug = input.tenantSlug !== undefined;
  let slug = input.tenantSlug ?? slugFrom(input.tenantName);
  const context = {
    tenantId,
    actor: { type: 'user' as const, id: userId },
    requestId: meta.requestId,
  };

  for (let attempt = 0; ; attempt += 1) {
    try {
      await runWithTenantContext(context, () =>
        withTenant(deps.dataSource, tenantId, async (tx) => {
          const now = new Date();
          await tx.manager.insert(TenantEntity, {
            id: tenantId,
            name: input.tenantName,
            slug,
            plan: 'free',
            status: 'active',
          });
          if (passwordHash) {
            await tx.manager.insert(UserEntity, {
              id: userId,
              email,
              displayName: input.displayName,
              passwordHash,
            });
          }
          await tx.manager.insert(UserTenantEntity, { userId, tenantId });
          await tx.manager.insert(MembershipEntity, { tenantId, userId, role: 'owner' });
          await recordAudit(tx, {
            action: 'tenant.created',
            targetType: 'tenant',
            targetId: tenantId,
          });
          await deps.outbox.publish(tx, TenantCreatedEvent, {
            subject: tenantId,
            data: {
              tenantId,
              name: input.tenantName,
              slug,
              ownerUserId: userId,
              ownerEmail: email,
              plan: 'free',
              createdAt: now.toISOString(),
            },
          });
          if (passwordHash) {
            await deps.outbox.publish(tx, UserRegisteredEvent, {
              subject: userId,
              data: {
                userId,
                email,
                displayName: input.displayName,
                tenantId,
                registeredAt: now.toISOString(),
              },
            });
          }
          await deps.outbox.publish(tx, MembershipAddedEvent, {
            subject: userId,
            data: {
              tenantId,
              userId,
              email,
              displayName: existing?.displayName ?? input.displayName,
              role: 'owner',
              invitationId: null,
              addedAt: now.toISOString(),
            },
          });
        }),
      );
      return { tenantId, tenantSlug: slug, userId, role: 'owner' };
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'tenants_slug_key' && !explicitSlug && attempt < 3) {
        slug = `${slugFrom(input.tenantName).slice(0, 33)}-${randomBytes(3).toString('hex')}`;
        continue;
      }
      if (constraint === 'tenants_slug_key') throw conflict('This tenant slug is taken.');
      if (constraint === 'users_email_key') {
        throw conflict('An account with this email was created at the same time; sign in instead.');
      }
      throw error;
    }
  }
}
