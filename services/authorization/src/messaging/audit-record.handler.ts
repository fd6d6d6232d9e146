import type { EventHandler } from '@tenantry/events';
import type { AuditLogRepository } from '../persistence/audit-log-repository';

// Event types whose payload describes what is gone rather than what now is.
const ENDING = /\.(removed|revoked|deleted)$/;

/**
 * Derives an audit record from another service's domain event: the event type is the action,
 * its subject the target, the envelope's actor, tenant and correlation id (the request id that
 * started it) who/where/which request, and the payload the state after (or before, for
 * removals). Idempotent by event id.
 */
export function auditRecordHandler(audit: AuditLogRepository): EventHandler<unknown> {
  return async (event, tx) => {
    const ending = ENDING.test(event.type);
    await audit.append(tx, {
      eventId: event.id,
      occurredAt: new Date(event.time),
      actorType: event.actortype,
      actorId: event.actorid,
      action: event.type,
      target: event.subject,
      requestId: event.correlationid,
      source: event.source,
      before: ending ? event.data : null,
      after: ending ? null : event.data,
    });
  };
}
