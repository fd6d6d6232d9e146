import { idempotentEventId } from '@tenantry/events';

/**
 * The ids of the events one request produces, by event type. Under an `Idempotency-Key` they are
 * derived from it (ADR 0012), so a request re-run after its first response was lost collides in
 * the outbox and rolls back instead of changing anything twice; without a key, undefined (the
 * outbox picks a random id).
 */
export type EventIdFor = (eventType: string) => string | undefined;

/** Jobs, consumers and the scheduler: no key, so random ids. */
export const randomEventIds: EventIdFor = () => undefined;

/** A route's ids, from its request's key (in the request's tenant and actor context). */
export function eventIdsFromKey(idempotencyKey: string | undefined): EventIdFor {
  if (idempotencyKey === undefined) return randomEventIds;
  return (eventType) => idempotentEventId({ idempotencyKey, eventType });
}
