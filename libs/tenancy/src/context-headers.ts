/**
 * The HTTP headers that carry the tenant context from the gateway to services. Node lowercases
 * incoming header names, so every name here is lowercase.
 */
export const CONTEXT_HEADERS = {
  tenantId: 'x-tenant-id',
  actorType: 'x-actor-type',
  actorId: 'x-actor-id',
  requestId: 'x-request-id',
  correlationId: 'x-correlation-id',
  contextToken: 'x-context-token',
} as const;

export type ContextHeaderName = (typeof CONTEXT_HEADERS)[keyof typeof CONTEXT_HEADERS];

/**
 * Every context header a client may never send: the gateway strips them and stamps its own, so
 * nothing but the gateway can speak for a tenant. Request and correlation ids are included because
 * services trust them (logs, audit records, the token's `jti`); a client-chosen id could collide
 * with another tenant's and muddy an audit trail.
 */
export const CLIENT_FORBIDDEN_CONTEXT_HEADERS: readonly ContextHeaderName[] =
  Object.values(CONTEXT_HEADERS);

/**
 * Any header starting with one of these is treated as context too, so a header added later (say
 * `x-tenant-plan`) is stripped before anyone remembers to list it.
 */
export const CLIENT_FORBIDDEN_CONTEXT_HEADER_PREFIXES: readonly string[] = [
  'x-tenant-',
  'x-actor-',
  'x-context-',
];

/** Whether the gateway must strip `name` from a client's request (case-insensitive). */
export function isClientForbiddenContextHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    (CLIENT_FORBIDDEN_CONTEXT_HEADERS as readonly string[]).includes(lower) ||
    CLIENT_FORBIDDEN_CONTEXT_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix))
  );
}
