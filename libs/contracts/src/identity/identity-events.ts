import type { AvroRecordSchema } from '@tenantry/events';
import { defineEvent } from '@tenantry/events';

// Identity's published events. Payloads carry what consumers need (not only ids), so no consumer
// has to call identity back. Evolve them only by adding fields with defaults (BACKWARD).

const TOPIC = 'identity.events';
const NAMESPACE = 'tenantry.identity';
const nullableString = { type: ['null', 'string'], default: null } as const;

function record(name: string, doc: string, fields: AvroRecordSchema['fields']): AvroRecordSchema {
  return { type: 'record', name, namespace: NAMESPACE, doc, fields };
}

/** Roles identity assigns at membership time; authorization owns what they grant. */
export type BuiltInRole = 'owner' | 'admin' | 'member' | 'billing-admin' | 'viewer';

export interface TenantCreated {
  tenantId: string;
  name: string;
  slug: string;
  ownerUserId: string;
  ownerEmail: string;
  plan: string;
  createdAt: string;
}
export const TenantCreatedEvent = defineEvent<TenantCreated>({
  type: 'identity.tenant.created',
  topic: TOPIC,
  schema: record('TenantCreated', 'A tenant signed up; its first user is its owner.', [
    { name: 'tenantId', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'slug', type: 'string' },
    { name: 'ownerUserId', type: 'string' },
    { name: 'ownerEmail', type: 'string' },
    { name: 'plan', type: 'string', default: 'free' },
    { name: 'createdAt', type: 'string' },
  ]),
});

export interface TenantSuspended {
  tenantId: string;
  reason: string | null;
  suspendedAt: string;
}
export const TenantSuspendedEvent = defineEvent<TenantSuspended>({
  type: 'identity.tenant.suspended',
  topic: TOPIC,
  schema: record('TenantSuspended', 'Every token and key of the tenant is refused until resumed.', [
    { name: 'tenantId', type: 'string' },
    { name: 'reason', ...nullableString },
    { name: 'suspendedAt', type: 'string' },
  ]),
});

export interface TenantResumed {
  tenantId: string;
  resumedAt: string;
}
export const TenantResumedEvent = defineEvent<TenantResumed>({
  type: 'identity.tenant.resumed',
  topic: TOPIC,
  schema: record('TenantResumed', 'A suspended tenant is active again.', [
    { name: 'tenantId', type: 'string' },
    { name: 'resumedAt', type: 'string' },
  ]),
});

export interface TenantDeleted {
  tenantId: string;
  deletedAt: string;
}
export const TenantDeletedEvent = defineEvent<TenantDeleted>({
  type: 'identity.tenant.deleted',
  topic: TOPIC,
  schema: record('TenantDeleted', 'Offboarding: every service purges the tenant’s data.', [
    { name: 'tenantId', type: 'string' },
    { name: 'deletedAt', type: 'string' },
  ]),
});

/** Why a deletion is pending, and until when an operator may still cancel it. */
export interface TenantDeletionRequested {
  tenantId: string;
  requestedAt: string;
  /** The purge starts after this instant (the grace period's end). */
  purgeAfter: string;
}
/** Offboarding asked for: the tenant is refused like a suspended one until the purge or a cancel. */
export const TenantDeletionRequestedEvent = defineEvent<TenantDeletionRequested>({
  type: 'identity.tenant.deletion-requested',
  topic: TOPIC,
  schema: record(
    'TenantDeletionRequested',
    'A tenant will be purged after its grace period unless an operator cancels.',
    [
      { name: 'tenantId', type: 'string' },
      { name: 'requestedAt', type: 'string' },
      { name: 'purgeAfter', type: 'string' },
    ],
  ),
});

export interface TenantDeletionCanceled {
  tenantId: string;
  /** The status the tenant is back in: `active` or `suspended`. */
  restoredStatus: string;
  canceledAt: string;
}
export const TenantDeletionCanceledEvent = defineEvent<TenantDeletionCanceled>({
  type: 'identity.tenant.deletion-canceled',
  topic: TOPIC,
  schema: record('TenantDeletionCanceled', 'A pending deletion was canceled in its grace period.', [
    { name: 'tenantId', type: 'string' },
    { name: 'restoredStatus', type: 'string' },
    { name: 'canceledAt', type: 'string' },
  ]),
});

export interface TenantDeletionCompleted {
  tenantId: string;
  requestedAt: string;
  /** When identity started the purge (and published TenantDeleted). */
  purgeStartedAt: string;
  completedAt: string;
  /** Every service that confirmed its purge. */
  confirmedBy: string[];
}
/** The end of offboarding: every service holding tenant data confirmed its purge. */
export const TenantDeletionCompletedEvent = defineEvent<TenantDeletionCompleted>({
  type: 'identity.tenant.deletion-completed',
  topic: TOPIC,
  schema: record('TenantDeletionCompleted', 'Every service confirmed it purged the tenant.', [
    { name: 'tenantId', type: 'string' },
    { name: 'requestedAt', type: 'string' },
    { name: 'purgeStartedAt', type: 'string' },
    { name: 'completedAt', type: 'string' },
    { name: 'confirmedBy', type: { type: 'array', items: 'string' }, default: [] },
  ]),
});

export interface UserRegistered {
  userId: string;
  email: string;
  displayName: string;
  /** The tenant the account was created in (sign-up or an accepted invitation). */
  tenantId: string;
  registeredAt: string;
}
export const UserRegisteredEvent = defineEvent<UserRegistered>({
  type: 'identity.user.registered',
  topic: TOPIC,
  schema: record('UserRegistered', 'A person created an account (one account across tenants).', [
    { name: 'userId', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'displayName', type: 'string', default: '' },
    { name: 'tenantId', type: 'string' },
    { name: 'registeredAt', type: 'string' },
  ]),
});

export interface UserDeleted {
  userId: string;
  /** The tenant whose deletion left the user in no tenant. */
  tenantId: string;
  deletedAt: string;
}
export const UserDeletedEvent = defineEvent<UserDeleted>({
  type: 'identity.user.deleted',
  topic: TOPIC,
  schema: record('UserDeleted', 'An account was erased (its last tenant was deleted).', [
    { name: 'userId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'deletedAt', type: 'string' },
  ]),
});

export interface MembershipAdded {
  tenantId: string;
  userId: string;
  email: string;
  displayName: string;
  role: string;
  /** Set when the membership came from accepting an invitation. */
  invitationId: string | null;
  addedAt: string;
}
export const MembershipAddedEvent = defineEvent<MembershipAdded>({
  type: 'identity.membership.added',
  topic: TOPIC,
  schema: record('MembershipAdded', 'A user became a member of a tenant with a role.', [
    { name: 'tenantId', type: 'string' },
    { name: 'userId', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'displayName', type: 'string', default: '' },
    { name: 'role', type: 'string' },
    { name: 'invitationId', ...nullableString },
    { name: 'addedAt', type: 'string' },
  ]),
});

export interface MembershipRemoved {
  tenantId: string;
  userId: string;
  removedAt: string;
}
export const MembershipRemovedEvent = defineEvent<MembershipRemoved>({
  type: 'identity.membership.removed',
  topic: TOPIC,
  schema: record('MembershipRemoved', 'A user is no longer a member of a tenant.', [
    { name: 'tenantId', type: 'string' },
    { name: 'userId', type: 'string' },
    { name: 'removedAt', type: 'string' },
  ]),
});

export interface InvitationCreated {
  invitationId: string;
  tenantId: string;
  email: string;
  role: string;
  expiresAt: string;
}
export const InvitationCreatedEvent = defineEvent<InvitationCreated>({
  type: 'identity.invitation.created',
  topic: TOPIC,
  schema: record('InvitationCreated', 'Someone was invited to a tenant (the token is not here).', [
    { name: 'invitationId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'role', type: 'string' },
    { name: 'expiresAt', type: 'string' },
  ]),
});

export interface InvitationAccepted {
  invitationId: string;
  tenantId: string;
  userId: string;
  email: string;
  role: string;
  acceptedAt: string;
}
export const InvitationAcceptedEvent = defineEvent<InvitationAccepted>({
  type: 'identity.invitation.accepted',
  topic: TOPIC,
  schema: record('InvitationAccepted', 'An invitation was used; a membership follows.', [
    { name: 'invitationId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'userId', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'role', type: 'string' },
    { name: 'acceptedAt', type: 'string' },
  ]),
});

export interface InvitationRevoked {
  invitationId: string;
  tenantId: string;
  revokedAt: string;
}
export const InvitationRevokedEvent = defineEvent<InvitationRevoked>({
  type: 'identity.invitation.revoked',
  topic: TOPIC,
  schema: record('InvitationRevoked', 'An open invitation was withdrawn.', [
    { name: 'invitationId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'revokedAt', type: 'string' },
  ]),
});

export interface ApiKeyCreated {
  apiKeyId: string;
  tenantId: string;
  name: string;
  prefix: string;
  role: string;
  expiresAt: string | null;
  createdAt: string;
}
export const ApiKeyCreatedEvent = defineEvent<ApiKeyCreated>({
  type: 'identity.api-key.created',
  topic: TOPIC,
  schema: record('ApiKeyCreated', 'A machine client key was issued (never its secret).', [
    { name: 'apiKeyId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'prefix', type: 'string' },
    { name: 'role', type: 'string' },
    { name: 'expiresAt', ...nullableString },
    { name: 'createdAt', type: 'string' },
  ]),
});

export interface ApiKeyRevoked {
  apiKeyId: string;
  tenantId: string;
  prefix: string;
  revokedAt: string;
}
export const ApiKeyRevokedEvent = defineEvent<ApiKeyRevoked>({
  type: 'identity.api-key.revoked',
  topic: TOPIC,
  schema: record('ApiKeyRevoked', 'A key stops working everywhere within seconds.', [
    { name: 'apiKeyId', type: 'string' },
    { name: 'tenantId', type: 'string' },
    { name: 'prefix', type: 'string' },
    { name: 'revokedAt', type: 'string' },
  ]),
});

/** Why a session ended; consumers treat every reason alike (its access tokens are refused). */
export type SessionRevocationReason = 'logout' | 'refresh-token-reuse' | 'membership-removed';

export interface SessionRevoked {
  tenantId: string;
  userId: string;
  /** The `sid` claim of the session's access tokens (its refresh-token family). */
  sessionId: string;
  reason: SessionRevocationReason;
  revokedAt: string;
  /**
   * No access token of the session outlives this instant, so a revocation list can forget the
   * session then.
   */
  accessTokensExpireAt: string;
}
export const SessionRevokedEvent = defineEvent<SessionRevoked>({
  type: 'identity.session.revoked',
  topic: TOPIC,
  schema: record(
    'SessionRevoked',
    'A session ended (logout, refresh-token reuse, member removal): its access tokens stop working.',
    [
      { name: 'tenantId', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'sessionId', type: 'string' },
      { name: 'reason', type: 'string', default: 'logout' },
      { name: 'revokedAt', type: 'string' },
      { name: 'accessTokensExpireAt', type: 'string' },
    ],
  ),
});

/** Every identity event, for registering with the schema registry at start. */
export const IDENTITY_EVENTS = [
  TenantCreatedEvent,
  TenantSuspendedEvent,
  TenantResumedEvent,
  TenantDeletedEvent,
  TenantDeletionRequestedEvent,
  TenantDeletionCanceledEvent,
  TenantDeletionCompletedEvent,
  UserRegisteredEvent,
  UserDeletedEvent,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  InvitationCreatedEvent,
  InvitationAcceptedEvent,
  InvitationRevokedEvent,
  ApiKeyCreatedEvent,
  ApiKeyRevokedEvent,
  SessionRevokedEvent,
] as const;
