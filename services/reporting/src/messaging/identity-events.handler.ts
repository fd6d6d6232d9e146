import {
  ApiKeyCreatedEvent,
  ApiKeyRevokedEvent,
  InvitationCreatedEvent,
  InvitationRevokedEvent,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  TenantCreatedEvent,
  TenantDeletedEvent,
  TenantResumedEvent,
  ReportingTenantPurgedEvent,
  TenantSuspendedEvent,
  UserDeletedEvent,
} from '@tenantry/contracts';
import type { TenantDeleted, UserDeleted } from '@tenantry/contracts';
import type { EventHandler, InboxConsumer, Outbox } from '@tenantry/events';
import { forgetPublishedEvents } from '@tenantry/events';
import type { ExportFileStore } from '../persistence/export-file-store';
import { TENANT_DERIVE_LOCK_SQL } from '../persistence/tenant-locks';
import type { ReadModelDeps } from './read-model-deps';
import type { ReadModelRegistration } from './read-model-handler';
import { TenantMismatchError, eventTime, readModelHandler } from './read-model-handler';

/**
 * Identity's lifecycle events -> tenant profile, members, activity; deletion purges and confirms
 * the purge through `outbox` (the offboarding saga, docs/adr/0016).
 */
export function identityEventHandlers(
  deps: ReadModelDeps,
  parts: {
    readonly outbox: Outbox;
    /** The purge deletes the tenant's export files too. */
    readonly exportFiles: ExportFileStore;
  },
): ReadModelRegistration[] {
  const { outbox, exportFiles } = parts;
  return [
    readModelHandler(deps, TenantCreatedEvent, {
      platform: true,
      stream: 'members',
      time: (d) => d.createdAt,
      // Identity reports the owner with the tenant, not as a membership event.
      apply: async (event, tx, at) => {
        await deps.tenants.created(tx, {
          name: event.data.name,
          slug: event.data.slug,
          plan: event.data.plan,
          createdAt: at,
        });
        await deps.members.recordMembership(tx, {
          eventId: event.id,
          userId: event.data.ownerUserId,
          kind: 'added',
          role: 'owner',
          email: event.data.ownerEmail,
          displayName: null,
          at,
          actorType: event.actortype,
          actorId: event.actorid,
        });
      },
      activity: ({ data }) => `Tenant created on plan ${data.plan}, owner ${data.ownerUserId}`,
    }),
    readModelHandler(deps, TenantSuspendedEvent, {
      platform: true,
      stream: 'activity',
      time: (d) => d.suspendedAt,
      apply: (event, tx, at) =>
        deps.tenants.statusChanged(tx, { status: 'suspended', at, eventId: event.id }),
      activity: ({ data }) => `Tenant suspended${data.reason ? `: ${data.reason}` : ''}`,
    }),
    readModelHandler(deps, TenantResumedEvent, {
      platform: true,
      stream: 'activity',
      time: (d) => d.resumedAt,
      apply: (event, tx, at) =>
        deps.tenants.statusChanged(tx, { status: 'active', at, eventId: event.id }),
      activity: () => 'Tenant resumed',
    }),
    readModelHandler(deps, MembershipAddedEvent, {
      platform: true,
      stream: 'members',
      time: (d) => d.addedAt,
      apply: (event, tx, at) =>
        deps.members.recordMembership(tx, {
          eventId: event.id,
          userId: event.data.userId,
          kind: 'added',
          role: event.data.role,
          email: event.data.email,
          displayName: event.data.displayName || null,
          at,
          actorType: event.actortype,
          actorId: event.actorid,
        }),
      activity: ({ data }) => `Member ${data.userId} added as ${data.role}`,
    }),
    readModelHandler(deps, MembershipRemovedEvent, {
      platform: true,
      stream: 'members',
      time: (d) => d.removedAt,
      apply: (event, tx, at) =>
        deps.members.recordMembership(tx, {
          eventId: event.id,
          userId: event.data.userId,
          kind: 'removed',
          role: null,
          email: null,
          displayName: null,
          at,
          actorType: event.actortype,
          actorId: event.actorid,
        }),
      activity: ({ data }) => `Member ${data.userId} removed`,
    }),
    readModelHandler(deps, InvitationCreatedEvent, {
      stream: 'activity',
      // The invitation event carries no creation time; the envelope's is used.
      time: () => undefined,
      activity: ({ data }) => `Invitation ${data.invitationId} created for role ${data.role}`,
    }),
    readModelHandler(deps, InvitationRevokedEvent, {
      stream: 'activity',
      time: (d) => d.revokedAt,
      activity: ({ data }) => `Invitation ${data.invitationId} revoked`,
    }),
    readModelHandler(deps, ApiKeyCreatedEvent, {
      stream: 'activity',
      time: (d) => d.createdAt,
      activity: ({ data }) =>
        `API key ${data.prefix} (${data.apiKeyId}) created with role ${data.role}`,
    }),
    readModelHandler(deps, ApiKeyRevokedEvent, {
      stream: 'activity',
      time: (d) => d.revokedAt,
      activity: ({ data }) => `API key ${data.prefix} (${data.apiKeyId}) revoked`,
    }),
    {
      register: (consumer: InboxConsumer) =>
        void consumer.on(TenantDeletedEvent, tenantDeletedHandler(deps, outbox, exportFiles)),
    },
    {
      register: (consumer: InboxConsumer) =>
        void consumer.on(UserDeletedEvent, userDeletedHandler(deps)),
    },
  ];
}

/**
 * Erasure (docs/adr/0013): identity erased the account. The handler only marks the user erased,
 * in its inbox transaction (no second connection, no other tenant's lock while the consumer's
 * transaction holds its own); from the commit on, membership facts store no email or name of
 * the user, and the user erasure task clears what every tenant already holds.
 */
function userDeletedHandler(deps: ReadModelDeps): EventHandler<UserDeleted> {
  return async (event, tx) => {
    if (event.data.tenantId !== event.tenantid) {
      throw new TenantMismatchError(event.type, event.data.tenantId, event.tenantid);
    }
    await deps.erasedUsers.mark(tx, event.data.userId, eventTime(event.data.deletedAt, event.time));
  };
}

/**
 * Offboarding: every read-model row and export file of the tenant goes; a tombstone keeps late events out. The
 * confirmation is published in the purge's transaction; a second TenantDeleted confirms again.
 */
function tenantDeletedHandler(
  deps: ReadModelDeps,
  outbox: Outbox,
  exportFiles: ExportFileStore,
): EventHandler<TenantDeleted> {
  return async (event, tx) => {
    if (event.data.tenantId !== event.tenantid) {
      throw new TenantMismatchError(event.type, event.data.tenantId, event.tenantid);
    }
    // Same lock order as every other non-usage write: derive lock, then the tenant lock.
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    await deps.tenants.purge(tx, eventTime(event.data.deletedAt, event.time));
    // Before the commit: should it fail, the redelivered event deletes them again.
    await exportFiles.removeTenant(tx.tenantId);
    await forgetPublishedEvents(tx);
    await outbox.publish(tx, ReportingTenantPurgedEvent, {
      subject: tx.tenantId,
      key: tx.tenantId,
      data: { tenantId: tx.tenantId, purgedAt: new Date().toISOString() },
    });
  };
}
