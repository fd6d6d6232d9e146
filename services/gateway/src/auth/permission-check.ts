import type { AuthenticatedActor } from './authenticated-actor';

/** What the permission step gets to decide on. */
export interface PermissionCheckInput {
  readonly principal: AuthenticatedActor;
  readonly method: string;
  /** The route pattern (`/v1/members/:memberId`) when a service's OpenAPI document names one. */
  readonly route: string | undefined;
  /** The operation's `x-permission` (`members:invite`, `authenticated`, ...) when known. */
  readonly permission: string | undefined;
  readonly service: string;
  readonly requestId: string;
}

/**
 * The hook where coarse route permissions are enforced, after authentication and before the
 * request is forwarded. Resolves to allow; throws an `HttpProblem` (403) to refuse. The
 * authorization service's Casbin decision plugs in here (next issue); until then no check is
 * configured and the pipeline skips the step, leaving permissions to the services.
 */
export type PermissionCheck = (input: PermissionCheckInput) => Promise<void>;
