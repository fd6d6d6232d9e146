import type { BuiltInRole } from '@tenantry/contracts';
import {
  InvitationAcceptedEvent,
  MembershipAddedEvent,
  UserRegisteredEvent,
} from '@tenantry/contracts';
import { randomUUID } from 'node:crypto';
import { withTenant } from '@tenantry/db';
import { HttpProblem, badRequest, conflict, forbidden, notFound } from '@tenantry/http';
import { runWithTenantContext } from '@tenantry/tenancy';
import { sha256, tenantBoundToken } from '../../domain/secret-token';
import { recordAudit } from '../../persistence/audit-trail';
import { changedRows } from '../../persistence/changed-rows';
import { InvitationEntity } from '../../persistence/entities/invitation.entity';
import { MembershipEntity } from '../../persistence/entities/membership.entity';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import { UserTenantEntity } from '../../persistence/entities/user-tenant.entity';
import { UserEntity } from '../../persistence/entities/user.entity';
import { invalidCredentials } from '../issue-tokens/session-issuer';
import type { IdentityDeps } from '../identity-deps';

export interface AcceptInvitationInput {
  readonly token: string;
  /** The invitee's password: checked for an existing account, set for a new one. */
  readonly password: string;
  /** Required when the invitee has no account yet. */
  readonly displayName?: string | undefined;
}

export interface AcceptedInvitation {
  readonly invitationId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly role: BuiltInRole;
}

const unknownInvitation = () => notFound('No such invitation.');
const unusable = (why: string) =>
  new HttpProblem({ status: 410, title: 'Invitation no longer valid', slug: 'gone', detail: why });

/**
 * Uses an invitation (once): the invitee signs in with their existing account's password or
 * creates an account for the invited email, and becomes a member with the invited role.
 */
export async function acceptInvitation(
  deps: IdentityDeps,
  input: AcceptInvitationInput,
  meta: { requestId: string; clientIp: string },
): Promise<AcceptedInvitation> {
  const parsed = tenantBoundToken.parse('inv', input.token);
  if (!parsed) throw unknownInvitation();
  const tokenHash = sha256(parsed.secret);
  const invitation = await withTenant(deps.dataSource, parsed.tenantId, (tx) =>
    tx.manager.findOneBy(InvitationEntity, { tokenHash }),
  );
  if (!invitation) throw unknownInvitation();
  if (invitation.revokedAt) throw unusable('This invitation was revoked.');
  if (invitation.acceptedAt) throw unusable('This invitation was already used.');
  if (invitation.expiresAt <= new Date()) throw unusable('This invitation has expired.');

  // Slow password work happens before the transaction, not while it holds locks.
  const existing = await deps.dataSource.manager.findOneBy(UserEntity, { email: invitation.email });
  let passwordHash: string | undefined;
  if (existing) {
    await deps.loginLimiter.consumeAttempt(existing.email, meta.clientIp);
    if (!(await deps.passwords.verify(existing.passwordHash, input.password))) {
      throw invalidCredentials();
    }
    await deps.loginLimiter.recordSuccess(existing.email, meta.clientIp);
  } else {
    if (!input.displayName) throw badRequest('A new account needs a displayName.');
    passwordHash = await deps.passwords.hash(input.password);
  }
  const userId = existing?.id ?? randomUUID();
  const displayName = existing?.displayName ?? input.displayName ?? '';
  const context = {
    tenantId: invitation.tenantId,
    actor: { type: 'user' as const, id: userId },
    requestId: meta.requestId,
  };
  return runWithTenantContext(context, () =>
    withTenant(deps.dataSource, invitation.tenantId, async (tx) => {
      // Key-share lock: a tenant deletion waits for this write or this sees the tenant deleted,
      // so no new personal data lands after its erasure (docs/adr/0013).
      const tenant = await tx.manager.findOne(TenantEntity, {
        where: { id: tx.tenantId },
        lock: { mode: 'for_key_share' },
      });
      if (tenant?.status !== 'active') throw forbidden('This tenant is not active.');
      const [claimed] = changedRows<{ id: string }>(
        await tx.manager.query(
          `UPDATE invitations SET accepted_at = now(), accepted_by_user_id = $2
           WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING id`,
          [invitation.id, userId],
        ),
      );
      if (!claimed) throw unusable('This invitation was already used.');
      if (passwordHash) {
        await tx.manager.insert(UserEntity, {
          id: userId,
          email: invitation.email,
          displayName,
          passwordHash,
        });
      }
      if (await tx.manager.findOneBy(MembershipEntity, { userId })) {
        throw conflict('You are already a member of this tenant.');
      }
      await tx.manager.insert(MembershipEntity, {
        tenantId: tx.tenantId,
        userId,
        role: invitation.role,
        invitationId: invitation.id,
      });
      await tx.manager.insert(UserTenantEntity, { userId, tenantId: tx.tenantId });
      await recordAudit(tx, {
        action: 'invitation.accepted',
        targetType: 'invitation',
        targetId: invitation.id,
        details: { role: invitation.role },
      });
      const now = new Date().toISOString();
      await deps.outbox.publish(tx, InvitationAcceptedEvent, {
        subject: invitation.id,
        data: {
          invitationId: invitation.id,
          tenantId: tx.tenantId,
          userId,
          email: invitation.email,
          role: invitation.role,
          acceptedAt: now,
        },
      });
      if (passwordHash) {
        await deps.outbox.publish(tx, UserRegisteredEvent, {
          subject: userId,
          data: {
            userId,
            email: invitation.email,
            displayName,
            tenantId: tx.tenantId,
            registeredAt: now,
          },
        });
      }
      await deps.outbox.publish(tx, MembershipAddedEvent, {
        subject: userId,
        data: {
          tenantId: tx.tenantId,
          userId,
          email: invitation.email,
          displayName,
          role: invitation.role,
          invitationId: invitation.id,
          addedAt: now,
        },
      });
      return {
        invitationId: invitation.id,
        tenantId: tx.tenantId,
        userId,
        role: invitation.role,
      };
    }),
  );
}
