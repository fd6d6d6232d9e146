import {
  ApiKeyCreatedEvent,
  ApiKeyRevokedEvent,
  BILLING_EVENTS,
  IDENTITY_EVENTS,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  PolicyChangedEvent,
  TenantCreatedEvent,
  TenantDeletedEvent,
} from '@tenantry/contracts';
import type { EventDefinition, InboxConsumer, InboxOutcome } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import type { AuditLogRepository } from '../persistence/audit-log-repository';
import type { PolicyEngine } from '../policy/policy-engine';
import { apiKeyCreatedHandler } from './api-key-created.handler';
import { apiKeyRevokedHandler } from './api-key-revoked.handler';
import { auditRecordHandler } from './audit-record.handler';
import { membershipAddedHandler } from './membership-added.handler';
import { membershipRemovedHandler } from './membership-removed.handler';
import { policyChangedHandler } from './policy-changed.handler';
import { tenantCreatedHandler } from './tenant-created.handler';
import { tenantDeletedHandler } from './tenant-deleted.handler';

/**
 * Privileged acts of other services recorded in the audit log, derived from their events. Add a
 * service's catalogue here when it has one (billing: plan changes, subscription events...).
 */
export const AUDITED_EVENTS: readonly EventDefinition<unknown>[] = [
  ...IDENTITY_EVENTS,
  ...BILLING_EVENTS,
];

/** Name prefix of the per-replica cache consumers (their inbox rows are pruned by the janitor). */
export function policyCacheConsumerPrefix(groupPrefix: string): string {
  return `${groupPrefix}.policy-cache.`;
}

export interface AuthorizationConsumersOptions {
  readonly consumers: ServiceConsumers;
  readonly sync: IdentityPolicySync;
  readonly audit: AuditLogRepository;
  readonly engine: PolicyEngine;
  readonly groupPrefix: string;
  readonly onCacheEvent?: (outcome: InboxOutcome) => void;
}

export interface AuthorizationConsumers {
  /** One group for the service: identity lifecycle -> roles and assignments. */
  readonly policies: InboxConsumer;
  /** One group for the service: other services' privileged acts -> audit log. */
  readonly audit: InboxConsumer;
  /** One group per replica: every replica hears every policy change and drops its cache. */
  readonly cache: InboxConsumer;
}

export function createAuthorizationConsumers(
  options: AuthorizationConsumersOptions,
): AuthorizationConsumers {
  const { consumers, sync, audit, engine } = options;
  const policies = consumers
    .durable(`${options.groupPrefix}.identity-policies`, { partitionsConsumedConcurrently: 3 })
    .on(TenantCreatedEvent, tenantCreatedHandler(sync))
    .on(TenantDeletedEvent, tenantDeletedHandler(sync))
    .on(MembershipAddedEvent, membershipAddedHandler(sync))
    .on(MembershipRemovedEvent, membershipRemovedHandler(sync))
    .on(ApiKeyCreatedEvent, apiKeyCreatedHandler(sync))
    .on(ApiKeyRevokedEvent, apiKeyRevokedHandler(sync));

  const auditConsumer = consumers.durable(`${options.groupPrefix}.audit`, {
    partitionsConsumedConcurrently: 3,
  });
  const recordAudit = auditRecordHandler(audit);
  for (const definition of AUDITED_EVENTS) auditConsumer.on(definition, recordAudit);

  // A replica-unique group, starting at the newest offset: a new replica has nothing cached, so
  // history is of no use to it. Anything it misses while joining is caught by the engine's poll
  // of policy versions.
  const cache = consumers
    .perInstance(policyCacheConsumerPrefix(options.groupPrefix), {
      fromBeginning: false,
      partitionsConsumedConcurrently: 6,
      onOutcome: (outcome) => options.onCacheEvent?.(outcome),
    })
    .on(PolicyChangedEvent, policyChangedHandler(engine));

  return { policies, audit: auditConsumer, cache };
}
