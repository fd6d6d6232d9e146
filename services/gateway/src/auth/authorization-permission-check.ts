import type { AuthzCheckSubjectType } from '@tenantry/contracts';
import { HttpProblem, forbidden } from '@tenantry/http';
import type { AuthorizationClient } from './authorization-client';
import { AuthorizationUnavailableError } from './authorization-client';
import type { PermissionCheck, PermissionCheckInput } from './permission-check';
import type { PermissionDecisionCache } from './permission-decision-cache';

/** Operators' own routes: identity checks operator roles itself (they live in identity). */
export const PLATFORM_PREFIX = '/v1/platform';

/**
 * `unavailable`: authorization could not decide; `document_missing`: the route's service has not
 * published its OpenAPI document to the gateway yet (it was down), so its permissions are unknown.
 */
export type PermissionOutcome =
  'allowed' | 'denied' | 'unavailable' | 'undeclared' | 'document_missing';

export interface AuthorizationPermissionCheckOptions {
  readonly client: AuthorizationClient;
  readonly cache: PermissionDecisionCache;
  /** Whether the owning service's OpenAPI document is loaded (else an unknown op is a 503). */
  readonly hasDocument: (service: string) => boolean;
  readonly log: { warn(message: string, meta?: Record<string, unknown>): void };
  /** `seconds`: how long the decision took (a cache hit, or the call to authorization). */
  readonly onDecision?: (outcome: PermissionOutcome, cached: boolean, seconds?: number) => void;
}

export const authorizationUnavailable = (): HttpProblem =>
  new HttpProblem({
    status: 503,
    title: 'Service unavailable',
    slug: 'authorization-unavailable',
    detail: 'Permissions cannot be checked right now; the request was not forwarded.',
    headers: { 'retry-after': '1' },
  });

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

const SUBJECT_TYPES: readonly string[] = ['user', 'api_key'];

/**
 * The gateway's coarse permission step:
 * - `public`: nothing to check (the pipeline does not even authenticate);
 * - `/v1/platform/...`: operators only, their permissions are identity's to check; anyone else
 *   is refused here (no tenant role grants a platform act);
 * - `authenticated`: any authenticated actor;
 * - an operation the gateway knows no permission for: refused, never forwarded unchecked;
 * - operators elsewhere: refused (they hold no tenant roles; authorization answers false for
 *   them anyway, so it is not asked);
 * - otherwise the tenant + actor + permission decision, cached, from authorization. When it
 *   cannot answer: 503, never "allowed".
 */
export function authorizationPermissionCheck(
  options: AuthorizationPermissionCheckOptions,
): PermissionCheck {
  const { client, cache, log } = options;
  const outcome = (value: PermissionOutcome, cached = false): void =>
    options.onDecision?.(value, cached);

  return async (input: PermissionCheckInput) => {
    const { principal, permission } = input;
    if (permission === 'public') return;
    const actorType = principal.actor.type;

    if (isUnder(input.path, PLATFORM_PREFIX)) {
      if (actorType === 'operator') return outcome('allowed');
      outcome('denied');
      throw forbidden('Platform routes are for platform operators.');
    }
    if (permission === undefined) {
      // The service's document is not loaded yet (it was down): its permissions are unknown.
      if (!options.hasDocument(input.service)) {
        outcome('document_missing');
        log.warn('refused: the service has not published its OpenAPI document to the gateway', {
          service: input.service,
          method: input.method,
          route: input.route,
        });
        throw authorizationUnavailable();
      }
      outcome('undeclared');
      log.warn('refused: no declared permission for this operation', {
        method: input.method,
        route: input.route,
        service: input.service,
      });
      throw forbidden('This operation declares no permission the gateway could check.');
    }
    if (permission === 'authenticated') return outcome('allowed');
    if (!SUBJECT_TYPES.includes(actorType)) {
      outcome('denied');
      throw forbidden(`This needs the permission ${permission}, which only tenant roles grant.`);
    }

    let decision: { allowed: boolean; cached: boolean };
    const started = performance.now();
    const took = (): number => (performance.now() - started) / 1000;
    try {
      decision = await cache.get(principal.tenantId, principal.actor, permission, async () => {
        const decisions = await client.check(
          principal.tenantId,
          { type: actorType as AuthzCheckSubjectType, id: principal.actor.id },
          [permission],
          input.requestId,
        );
        return decisions[permission] === true;
      });
    } catch (error) {
      options.onDecision?.('unavailable', false, took());
      log.warn('refused: authorization could not decide', {
        request_id: input.requestId,
        err: error instanceof Error ? error.message : String(error),
        cause:
          error instanceof AuthorizationUnavailableError && error.cause instanceof Error
            ? error.cause.message
            : undefined,
        permission,
      });
      throw authorizationUnavailable();
    }
    options.onDecision?.(decision.allowed ? 'allowed' : 'denied', decision.cached, took());
    if (!decision.allowed) throw forbidden(`This needs the permission ${permission}.`);
  };
}
