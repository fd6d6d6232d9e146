import { tagActiveSpanWithTenant } from '@tenantry/observability';
import { match } from 'path-to-regexp';
import type { Request, RequestHandler } from 'express';
import {
  CONTEXT_HEADERS,
  ContextTokenVerifier,
  InvalidContextTokenError,
  runWithTenantContext,
} from '@tenantry/tenancy';
import type { ContextTokenKey, TenantContext } from '@tenantry/tenancy';
import type { HttpLogger } from './http-logger';
import { unauthorized } from './problem-details';
import { assignRequestId, requestIdOf } from './request-id';

export interface RequireSignedContextOptions {
  /** Accepted keys: the current one first, then previous ones during a rotation. */
  readonly keys: readonly ContextTokenKey[];
  /** When set, only tokens issued for this service are accepted. */
  readonly audience?: string;
  /** Exact paths served without a context (health, metrics); everything else needs one. */
  readonly publicPaths?: readonly string[];
  /** Routes served without a context for one method only (from `ApiRoutes.publicRoutes()`). */
  readonly publicRoutes?: readonly PublicRoute[];
  readonly logger?: HttpLogger;
}

/** The plain headers the gateway sends beside the token; each must repeat what the token says. */
function disagreeingHeader(req: Request, context: TenantContext): string | undefined {
  const signed: ReadonlyArray<readonly [string, string | undefined]> = [
    [CONTEXT_HEADERS.tenantId, context.tenantId],
    [CONTEXT_HEADERS.actorType, context.actor.type],
    [CONTEXT_HEADERS.actorId, context.actor.id],
    [CONTEXT_HEADERS.requestId, context.requestId],
    [CONTEXT_HEADERS.correlationId, context.correlationId],
  ];
  return signed.find(([name, value]) => {
    const header = req.headers[name];
    return header !== undefined && header !== value;
  })?.[0];
}

/** A route that needs no signed context: this method on this path pattern only. */
export interface PublicRoute {
  readonly method: string;
  readonly path: string;
}

/**
 * Matches request paths against public path patterns: exact paths, or express-style patterns
 * with `:param` segments (`/v1/invitations/:token/accept`).
 */
export function publicPathMatcher(patterns: readonly string[]): (path: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes(':')));
  const matchers = patterns.filter((p) => p.includes(':')).map((p) => match(p));
  return (path) => exact.has(path) || matchers.some((m) => m(path) !== false);
}

/**
 * Refuses any request without a valid context token from the gateway (401), and runs the rest of
 * the chain inside that context, so handlers, logs and queries see the verified tenant and actor.
 */
export function requireSignedContext(options: RequireSignedContextOptions): RequestHandler {
  const { keys, audience, logger } = options;
  if (keys.length === 0) throw new Error('requireSignedContext needs at least one key');
  const isPublicPath = publicPathMatcher(options.publicPaths ?? []);
  const routeMatchers = (options.publicRoutes ?? []).map((route) => ({
    method: route.method.toUpperCase(),
    matches: publicPathMatcher([route.path]),
  }));
  const isPublic = (method: string, path: string): boolean =>
    isPublicPath(path) || routeMatchers.some((r) => r.method === method && r.matches(path));
  const verifier = new ContextTokenVerifier(keys, { audience });

  return async (req, res, next) => {
    if (isPublic(req.method, req.path)) {
      next();
      return;
    }
    const refuse = (reason: string, detail: string): void => {
      logger?.warn('request refused: no valid signed context', {
        reason,
        method: req.method,
        path: req.path,
        requestId: requestIdOf(req),
      });
      next(unauthorized(detail));
    };

    const token = req.headers[CONTEXT_HEADERS.contextToken];
    if (typeof token !== 'string' || token === '') {
      refuse('missing', 'This service only accepts requests forwarded by the gateway.');
      return;
    }
    let context: TenantContext;
    try {
      // A shared token's request is the one the gateway stamped in `x-request-id` (reused by
      // `requestId()` before this step, since the gateway is trusted here).
      context = await verifier.verify(token, requestIdOf(req));
    } catch (error) {
      if (!(error instanceof InvalidContextTokenError)) throw error;
      refuse(error.reason, 'The request context is missing, invalid or expired.');
      return;
    }
    const header = disagreeingHeader(req, context);
    if (header) {
      refuse(`header ${header} disagrees with the token`, 'The request context is inconsistent.');
      return;
    }
    // One id for the request everywhere: the one the gateway signed.
    assignRequestId(req, res, context.requestId);
    runWithTenantContext(context, () => {
      // The server span started before the tenant was known: tag it (and the active one) now.
      tagActiveSpanWithTenant(context);
      next();
    });
  };
}
