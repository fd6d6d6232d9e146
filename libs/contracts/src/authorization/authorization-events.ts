import type { AvroRecordSchema } from '@tenantry/events';
import { defineEvent } from '@tenantry/events';

const TOPIC = 'authorization.events';
const NAMESPACE = 'tenantry.authorization';

function record(name: string, doc: string, fields: AvroRecordSchema['fields']): AvroRecordSchema {
  return { type: 'record', name, namespace: NAMESPACE, doc, fields };
}

/** Who a role is assigned to: a tenant user or a tenant API key. */
export type RoleSubjectType = 'user' | 'api_key';

export interface PolicyChanged {
  tenantId: string;
  /** What changed, for logs: `role.created`, `role.updated`, `role.deleted`, `assignment`... */
  change: string;
  changedAt: string;
}
/** Every replica and the gateway drop that tenant's cached decisions and reload its policies. */
export const PolicyChangedEvent = defineEvent<PolicyChanged>({
  type: 'authorization.policy.changed',
  topic: TOPIC,
  schema: record('PolicyChanged', 'A tenant’s policies changed; cached decisions are stale.', [
    { name: 'tenantId', type: 'string' },
    { name: 'change', type: 'string' },
    { name: 'changedAt', type: 'string' },
  ]),
});

export interface RoleAssigned {
  tenantId: string;
  subjectType: RoleSubjectType;
  subjectId: string;
  role: string;
  assignedAt: string;
}
export const RoleAssignedEvent = defineEvent<RoleAssigned>({
  type: 'authorization.role.assigned',
  topic: TOPIC,
  schema: record('RoleAssigned', 'A subject holds a role in a tenant.', [
    { name: 'tenantId', type: 'string' },
    { name: 'subjectType', type: 'string' },
    { name: 'subjectId', type: 'string' },
    { name: 'role', type: 'string' },
    { name: 'assignedAt', type: 'string' },
  ]),
});

export interface RoleRevoked {
  tenantId: string;
  subjectType: RoleSubjectType;
  subjectId: string;
  role: string;
  revokedAt: string;
}
export const RoleRevokedEvent = defineEvent<RoleRevoked>({
  type: 'authorization.role.revoked',
  topic: TOPIC,
  schema: record('RoleRevoked', 'A subject no longer holds a role in a tenant.', [
    { name: 'tenantId', type: 'string' },
    { name: 'subjectType', type: 'string' },
    { name: 'subjectId', type: 'string' },
    { name: 'role', type: 'string' },
    { name: 'revokedAt', type: 'string' },
  ]),
});

export interface AuthorizationTenantPurged {
  tenantId: string;
  /** Audit rows kept with their personal fields redacted (docs/adr/0013). */
  auditRowsRedacted: number;
  purgedAt: string;
}
/** Authorization's confirmation in the offboarding saga: policies gone, a tombstone left. */
export const AuthorizationTenantPurgedEvent = defineEvent<AuthorizationTenantPurged>({
  type: 'authorization.tenant.purged',
  topic: TOPIC,
  schema: record('AuthorizationTenantPurged', 'Authorization erased a deleted tenant’s policies.', [
    { name: 'tenantId', type: 'string' },
    { name: 'auditRowsRedacted', type: 'long', default: 0 },
    { name: 'purgedAt', type: 'string' },
  ]),
});

export const AUTHORIZATION_EVENTS = [
  PolicyChangedEvent,
  RoleAssignedEvent,
  RoleRevokedEvent,
  AuthorizationTenantPurgedEvent,
] as const;
