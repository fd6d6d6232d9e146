import type { AuthenticatedActor } from './authenticated-actor';

/** What the permission step gets to decide on. */
export interface PermissionCheckInput {
  readonly principal: AuthenticatedActor;
  readonly method: string;
  /** The request path (no query). */
  readonly path: string;
  /** The route pattern (`/v1/members/:memberId`) when a service's OpenAPI document names one. */
  readonly route: string | undefined;
  /** The operation's `x-permission` (`members:invite`, `authenticated`, ...) when known. */
  readonly permission: string | undefined;
  readonly service: string;
  readonly requestId: string;
}

/**
 * The hook where coarse route permissions are enforced, after authentication and before the
 * request is forwarded. Resolves to allow; throws an `HttpProblem` to refuse (403 denied, 503
 * when no decision can be had). The implementation is `authorizationPermissionCheck`.
 */
export type PermissionCheck = (input: PermissionCheckInput) => Promise<void>;
