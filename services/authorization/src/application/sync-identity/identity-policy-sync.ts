import type { TenantTransaction } from '@tenantry/db';
import type { EventsLogger } from '@tenantry/events';
import { forgetPublishedEvents, refuseEventAfterDeletion, silentLogger } from '@tenantry/events';
import { FALLBACK_ROLE } from '../../domain/built-in-roles';
import type { AssignableSubjectType } from '../../domain/policy-subject';
import { eraseTenantPersonalData } from '../erase-personal-data/erase-tenant-personal-data';
import type { PolicyUseCaseDeps } from '../policy-use-case-deps';

/**
 * Follows identity's lifecycle events (identity is the source of truth for who belongs to a
 * tenant; authorization for what they may do). Every step is idempotent and converges whatever
 * the order: built-in roles are seeded by whichever event of a tenant comes first, and a
 * member's add and removal are applied by their event time, so a removal that overtook its add
 * leaves no assignment behind.
 */
export class IdentityPolicySync {
  private readonly logger: EventsLogger;

  constructor(
    private readonly deps: PolicyUseCaseDeps,
    logger?: EventsLogger,
  ) {
    this.logger = logger ?? silentLogger;
  }

  /** Built-in roles for the tenant; its creator becomes owner. */
  async tenantCreated(tx: TenantTransaction, ownerUserId: string, createdAt: Date): Promise<void> {
    await this.subjectAdded(tx, 'user', ownerUserId, 'owner', createdAt, 'tenant.created');
  }

  /**
   * Offboarding: the tenant's roles, assignments and members go; its audit log stays, with the
   * personal data in it redacted (docs/adr/0013). One transaction with the inbox row, so a
   * redelivered event is skipped (and would change nothing anyway). Confirms the purge to
   * identity in the same transaction; a second TenantDeleted confirms again (identity ignores it).
   */
  async tenantDeleted(tx: TenantTransaction): Promise<void> {
    const { repository, recorder } = this.deps;
    await repository.bumpVersion(tx);
    await repository.purgeTenant(tx);
    await forgetPublishedEvents(tx);
    const redacted = await eraseTenantPersonalData(tx);
    this.logger.info('tenant erased', { audit_rows_redacted: redacted });
    await recorder.policyChanged(tx, 'tenant.deleted');
    await recorder.tenantPurged(tx, redacted);
  }

  /**
   * An event of a purged tenant that happened after the purge is refused (the DLQ, reason
   * "tenant deleted"); an earlier one, delivered late, is dropped by the caller.
   */
  private async refuseAfterPurge(tx: TenantTransaction, type: string, at: Date): Promise<void> {
    const deletedAt = await this.deps.repository.deletedAt(tx);
    if (deletedAt) refuseEventAfterDeletion({ type, tenantId: tx.tenantId, at }, deletedAt);
  }

  async subjectAdded(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    role: string,
    at: Date,
    change = 'assignment',
  ): Promise<void> {
    const { repository, recorder } = this.deps;
    await repository.bumpVersion(tx);
    if (!(await repository.ensureTenant(tx))) {
      await this.refuseAfterPurge(tx, 'subject.added', at);
      this.logger.info('late event of a deleted tenant dropped', { subject_id: subjectId });
      return;
    }
    if (!(await repository.recordSubjectState(tx, subjectType, subjectId, 'active', at))) {
      this.logger.info('stale add ignored: a later change of this subject is known', {
        subject_type: subjectType,
        subject_id: subjectId,
      });
      return;
    }
    let granted = role;
    if (!(await repository.findRole(tx, role))) {
      this.logger.warn('identity named a role this tenant does not have; assigning the fallback', {
        role,
        fallback: FALLBACK_ROLE,
      });
      granted = FALLBACK_ROLE;
    }
    if (await repository.assign(tx, subjectType, subjectId, granted)) {
      await recorder.assigned(tx, subjectType, subjectId, granted);
    }
    await recorder.policyChanged(tx, change);
  }

  /** Every role the subject holds in the tenant goes. */
  async subjectRemoved(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    at: Date,
  ): Promise<void> {
    const { repository, recorder } = this.deps;
    await repository.bumpVersion(tx);
    if ((await repository.tenantState(tx)) === 'deleted') {
      await this.refuseAfterPurge(tx, 'subject.removed', at);
      return;
    }
    if (!(await repository.recordSubjectState(tx, subjectType, subjectId, 'removed', at))) return;
    const roles = await repository.revokeAll(tx, subjectType, subjectId);
    if (
      roles.includes('owner') &&
      subjectType === 'user' &&
      (await repository.countUserOwners(tx)) === 0
    ) {
      // Identity refuses to remove the last owner; if it happens anyway, identity's word stands.
      this.logger.warn('the tenant has no owner left after a membership removal', {
        subject_id: subjectId,
      });
    }
    for (const role of roles) await recorder.revoked(tx, subjectType, subjectId, role);
    if (roles.length > 0) await recorder.policyChanged(tx, 'assignment');
  }
}
