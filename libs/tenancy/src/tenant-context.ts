import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is acting: a tenant user, a tenant API key, a platform service, or a platform operator. */
export type ActorType = 'user' | 'api_key' | 'service' | 'operator';

export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

/** The one request/event context every log line, span, query and event is scoped by. */
export interface TenantContext {
  readonly tenantId: string;
  readonly actor: Actor;
  readonly requestId: string;
  /** The event that caused the current work, when running inside a consumer. */
  readonly causationId?: string;
  /** Carried from the first request through every event it causes. */
  readonly correlationId?: string;
  /**
   * Permissions the gateway has already verified with the authorization service for this
   * request (the route's declared permission). Services may rely on them instead of keeping a
   * second copy of the role rules; absent on events and on requests that needed none.
   */
  readonly grantedPermissions?: readonly string[];
}

const storage = new AsyncLocalStorage<TenantContext>();

export const ACTOR_TYPES: readonly ActorType[] = ['user', 'api_key', 'service', 'operator'];

export function isActorType(value: unknown): value is ActorType {
  return typeof value === 'string' && (ACTOR_TYPES as readonly string[]).includes(value);
}

/** Runs `fn` with `context` as the current tenant context (for it and everything it awaits). */
export function runWithTenantContext<T>(context: TenantContext, fn: () => T): T {
  return storage.run(Object.freeze({ ...context }), fn);
}

/** The current context, or undefined outside a request or event. */
export function currentTenantContext(): TenantContext | undefined {
  return storage.getStore();
}

export class MissingTenantContextError extends Error {
  constructor(what: string) {
    super(`${what} needs a tenant context (tenant and actor), and none is set`);
    this.name = 'MissingTenantContextError';
  }
}

/** The current context; throws when there is none, so tenant-scoped work cannot run unscoped. */
export function requireTenantContext(what = 'this operation'): TenantContext {
  const context = storage.getStore();
  if (!context) throw new MissingTenantContextError(what);
  return context;
}
