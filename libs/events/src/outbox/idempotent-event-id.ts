import { createHash } from 'node:crypto';
import { requireTenantContext } from '@tenantry/tenancy';
import type { Actor } from '@tenantry/tenancy';

/** The UUID namespace of event ids derived from idempotency keys (fixed: changing it re-keys every id). */
export const IDEMPOTENT_EVENT_NAMESPACE = '6f1c2b0e-8c47-4f5e-9a53-2d7e0c9b4a61';

/** RFC 9562 UUID version 5 (SHA-1 of namespace and name). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new RangeError(`not a UUID: ${namespace}`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface IdempotentEventIdInput<K extends string | undefined = string> {
  /**
   * The request's `Idempotency-Key` (`input.idempotencyKey` in an ApiRoutes handler); undefined
   * (an `optional` route called without one) gives undefined, so the outbox picks a random id.
   */
  readonly idempotencyKey: K;
  readonly eventType: string;
  /** Tells apart several events of one type that one request produces (e.g. a line id). */
  readonly part?: string;
}

/** Whose request it is: the current tenant context by default. */
export interface EventIdScope {
  readonly tenantId: string;
  readonly actor: Actor;
}

/**
 * The id of the event a request under `idempotencyKey` produces: the same tenant, actor, key,
 * type and part always give the same UUID, so a retried request's event collides in the outbox
 * instead of being published twice. Tenant and actor come from the current context unless given.
 */
export function idempotentEventId(input: IdempotentEventIdInput, scope?: EventIdScope): string;
export function idempotentEventId(
  input: IdempotentEventIdInput<string | undefined>,
  scope?: EventIdScope,
): string | undefined;
export function idempotentEventId(
  input: IdempotentEventIdInput<string | undefined>,
  given?: EventIdScope,
): string | undefined {
  if (input.idempotencyKey === undefined) return undefined;
  const scope = given ?? requireTenantContext('deriving an event id');
  // A JSON array, so no choice of separators lets two different inputs spell the same name.
  const name = JSON.stringify([
    scope.tenantId,
    scope.actor.type,
    scope.actor.id,
    input.idempotencyKey,
    input.eventType,
    input.part ?? '',
  ]);
  return uuidV5(name, IDEMPOTENT_EVENT_NAMESPACE);
}
