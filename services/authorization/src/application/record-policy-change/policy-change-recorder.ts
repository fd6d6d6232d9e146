import type { TenantTransaction } from '@tenantry/db';
import {
  AuthorizationTenantPurgedEvent,
  PolicyChangedEvent,
  RoleAssignedEvent,
  RoleRevokedEvent,
} from '@tenantry/contracts';
import type { Outbox } from '@tenantry/events';
import { requireTenantContext } from '@tenantry/tenancy';
import type { AssignableSubjectType } from '../../domain/policy-subject';
import type { AuditLogRepository } from '../../persistence/audit-log-repository';

export const AUTHORIZATION_SOURCE = '/services/authorization';

/**
 * Writes what every policy change owes, in the change's transaction: its events through the
 * outbox (every replica and the gateway drop the tenant's cached decisions on PolicyChanged) and
 * its audit record (actor, action, target, request id, before/after). Authorization events are
 * keyed by tenant, so one tenant's policy events stay in order.
 */
export class PolicyChangeRecorder {
  constructor(
    private readonly outbox: Outbox,
    private readonly audit: AuditLogRepository,
  ) {}

  async policyChanged(tx: TenantTransaction, change: string): Promise<string> {
    const metadata = await this.outbox.publish(tx, PolicyChangedEvent, {
      subject: tx.tenantId,
      key: tx.tenantId,
      data: { tenantId: tx.tenantId, change, changedAt: new Date().toISOString() },
    });
    return metadata.id;
  }

  /**
   * Authorization's confirmation in the offboarding saga (docs/adr/0016), in the purge's
   * transaction: identity counts the tenant deleted once every service sent one.
   */
  async tenantPurged(tx: TenantTransaction, auditRowsRedacted: number): Promise<void> {
    await this.outbox.publish(tx, AuthorizationTenantPurgedEvent, {
      subject: tx.tenantId,
      key: tx.tenantId,
      data: { tenantId: tx.tenantId, auditRowsRedacted, purgedAt: new Date().toISOString() },
    });
  }

  /** A role was created, changed or deleted. */
  async roleChanged(
    tx: TenantTransaction,
    change: 'role.created' | 'role.updated' | 'role.deleted',
    role: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    const eventId = await this.policyChanged(tx, change);
    await this.record(tx, eventId, `authorization.${change}`, `role:${role}`, before, after);
  }

  async assigned(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    role: string,
  ): Promise<void> {
    const at = new Date().toISOString();
    const target = `${subjectType}:${subjectId}`;
    const metadata = await this.outbox.publish(tx, RoleAssignedEvent, {
      subject: target,
      key: tx.tenantId,
      data: { tenantId: tx.tenantId, subjectType, subjectId, role, assignedAt: at },
    });
    await this.record(tx, metadata.id, RoleAssignedEvent.type, target, null, { role });
  }

  async revoked(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    role: string,
  ): Promise<void> {
    const at = new Date().toISOString();
    const target = `${subjectType}:${subjectId}`;
    const metadata = await this.outbox.publish(tx, RoleRevokedEvent, {
      subject: target,
      key: tx.tenantId,
      data: { tenantId: tx.tenantId, subjectType, subjectId, role, revokedAt: at },
    });
    await this.record(tx, metadata.id, RoleRevokedEvent.type, target, { role }, null);
  }

  private async record(
    tx: TenantTransaction,
    eventId: string,
    action: string,
    target: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    const context = requireTenantContext('an audit record');
    await this.audit.append(tx, {
      eventId,
      occurredAt: new Date(),
      actorType: context.actor.type,
      actorId: context.actor.id,
      action,
      target,
      requestId: context.requestId,
      source: AUTHORIZATION_SOURCE,
      before,
      after,
    });
  }
}
