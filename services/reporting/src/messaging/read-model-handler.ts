import type { TenantTransaction } from '@tenantry/db';
import type { EventDefinition, EventEnvelope, EventHandler, InboxConsumer } from '@tenantry/events';
import { refuseEventAfterDeletion } from '@tenantry/events';
import type { ReportStream } from '../persistence/freshness-repository';
import { TENANT_DERIVE_LOCK_SQL } from '../persistence/tenant-locks';
import type { ReadModelDeps } from './read-model-deps';

/** The domain time an event carries (payload), or the envelope's when it is missing or bad. */
export function eventTime(payloadTime: string | null | undefined, envelopeTime: string): Date {
  const candidate = new Date(payloadTime ?? envelopeTime);
  return Number.isNaN(candidate.getTime()) ? new Date(envelopeTime) : candidate;
}

export class TenantMismatchError extends Error {
  constructor(type: string, payloadTenant: string, envelopeTenant: string) {
    super(`${type} for tenant ${payloadTenant} in an envelope of ${envelopeTenant}`);
    this.name = 'TenantMismatchError';
  }
}

export interface ReadModelUpdate<T> {
  /** Whose `asOf` the event moves. */
  readonly stream: ReportStream;
  /** The payload's own instant (falls back to the envelope's time). */
  readonly time: (data: T) => string | null | undefined;
  readonly apply?: (event: EventEnvelope<T>, tx: TenantTransaction, at: Date) => Promise<void>;
  /**
   * For privileged acts: the line the activity report shows (ids only, no emails), or
   * undefined when this occurrence is not one (a system renewal, say).
   */
  readonly activity?: (event: EventEnvelope<T>) => string | undefined;
  /**
   * False when nothing the report families or the operator see could change (a policy change
   * that only mirrors an assignment): then the event is only recorded in the inbox.
   */
  readonly relevant?: (event: EventEnvelope<T>) => boolean;
  /** The event changes a figure of the operator's tenant summary (profile, members, plan). */
  readonly platform?: boolean;
  /**
   * True for an event the offboarding itself produces after the purge (billing's final invoice):
   * dropped quietly instead of refused.
   */
  readonly offboardingTail?: (event: EventEnvelope<T>) => boolean;
}

/**
 * An event of a deleted tenant: refused (the DLQ, "tenant deleted") when it happened after the
 * purge, dropped when it is an earlier one delivered late or the offboarding's own tail.
 */
export function refuseAfterPurge(
  event: EventEnvelope<unknown>,
  deletedAt: Date,
  tail = false,
): void {
  if (tail) return;
  refuseEventAfterDeletion(
    { type: event.type, tenantId: event.tenantid, at: new Date(event.time) },
    deletedAt,
  );
}

/** One event type's handler and its registration on a consumer. */
export interface ReadModelRegistration {
  register(consumer: InboxConsumer): void;
}

/**
 * Every read-model handler does the same around its own write: refuses a payload that names
 * another tenant than its envelope (to the DLQ after retries), refuses events of a deleted tenant
 * that happened after its purge (and drops earlier ones delivered late), records a privileged act
 * in the activity log, and moves the family's `asOf`.
 */
export function readModelHandler<T extends { tenantId: string }>(
  deps: ReadModelDeps,
  definition: EventDefinition<T>,
  update: ReadModelUpdate<T>,
): ReadModelRegistration {
  const handler: EventHandler<T> = async (event, tx) => {
    if (event.data.tenantId !== event.tenantid) {
      throw new TenantMismatchError(event.type, event.data.tenantId, event.tenantid);
    }
    if (update.relevant && !update.relevant(event)) return;
    // Every non-usage write of a tenant runs after the previous one (the derive lock, always
    // before the tenant lock): they share rows (activity, freshness, the platform summary), and
    // in a fixed lock order two consumers' transactions cannot deadlock.
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    const deletedAt = await deps.tenants.deletedAt(tx);
    if (deletedAt) return refuseAfterPurge(event, deletedAt, update.offboardingTail?.(event));
    const at = eventTime(update.time(event.data), event.time);
    await update.apply?.(event, tx, at);
    const summary = update.activity?.(event);
    if (summary !== undefined) {
      await deps.activity.record(tx, {
        eventId: event.id,
        at,
        action: event.type,
        actorType: event.actortype,
        actorId: event.actorid,
        subject: event.subject,
        summary,
      });
      if (update.stream !== 'activity') await deps.freshness.applied(tx, 'activity', at);
    }
    await deps.freshness.applied(tx, update.stream, at);
    if (update.platform) await deps.platform.refreshTenant(tx);
  };
  return { register: (consumer) => void consumer.on(definition, handler) };
}
