import type { PlatformMetrics } from '@tenantry/observability';
import { metricsHandler } from '@tenantry/observability';
import { httpMetrics, identifyRequestTenant } from './http-metrics';
import type { PublicRoute } from './require-signed-context';
import express from 'express';
import type { Express, RequestHandler } from 'express';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { errorHandler } from './error-handler';
import { healthRoutes } from './health-routes';
import type { ReadinessCheck } from './health-routes';
import type { HttpLogger } from './http-logger';
import { jsonBody } from './json-body';
import { notFound } from './problem-details';
import { originFormOnly } from './origin-form-only';
import { requestId } from './request-id';
import { requireSignedContext } from './require-signed-context';
import { securityHeaders } from './security-headers';

/** Served without a signed context: probes and the Prometheus scrape come from the cluster. */
export const DEFAULT_PUBLIC_PATHS: readonly string[] = ['/healthz', '/readyz', '/metrics'];

export interface CreateHttpAppOptions {
  readonly serviceName: string;
  readonly logger: HttpLogger;
  /**
   * Keys that verify the gateway's context token (current first, then previous). Required, so no
   * service forgets the check; `false` only for the gateway itself, which authenticates clients
   * and issues the tokens.
   */
  readonly contextKeys: readonly ContextTokenKey[] | false;
  /**
   * Accept only context tokens issued for this audience; default: `serviceName`. A token the
   * gateway signed for one service is refused by every other.
   */
  readonly contextAudience?: string;
  /** Default '100kb'. */
  readonly bodyLimit?: string | number;
  readonly readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  readonly readinessTimeoutMs?: number;
  /** Extra exact paths served without a context, added to {@link DEFAULT_PUBLIC_PATHS}. */
  readonly publicPaths?: readonly string[];
  /** Routes public for one method only; pass `routes.publicRoutes()` from ApiRoutes. */
  readonly publicRoutes?: readonly PublicRoute[];
  /** Reuse an incoming `x-request-id`; default: yes behind the gateway, no at the edge. */
  readonly trustIncomingRequestId?: boolean;
  /**
   * When given: request rate and latency by route, method, status and tenant class are recorded,
   * and `GET /metrics` serves the registry (Prometheus text format, no signed context needed).
   */
  readonly metrics?: PlatformMetrics;
  /**
   * Serve `GET /metrics` on this app (default true). False when a separate metrics port serves
   * it, so the port the gateway or clients reach does not.
   */
  readonly serveMetrics?: boolean;
  /**
   * Runs before everything else, on every request: what must cover the whole request (the
   * gateway's edge server span).
   */
  readonly first?: RequestHandler;
  /** Mounts the service's routes; runs after the context check and body parsing. */
  readonly configure: (app: Express) => void;
}

/** The express app every service starts from, with the trust boundary already in place. */
export function createHttpApp(options: CreateHttpAppOptions): Express {
  const { logger, contextKeys } = options;
  const app = express();
  app.disable('x-powered-by');
  if (options.first) app.use(options.first);

  // First: no later step may see a request target that names another host.
  app.use(originFormOnly());

  app.use(requestId({ trustIncoming: options.trustIncomingRequestId ?? contextKeys !== false }));
  app.use(securityHeaders());
  app.use(
    healthRoutes({
      serviceName: options.serviceName,
      checks: options.readinessChecks,
      timeoutMs: options.readinessTimeoutMs,
      logger,
    }),
  );
  if (options.metrics) {
    if (options.serveMetrics ?? true) {
      app.get('/metrics', metricsHandler(options.metrics.registry));
    }
    // Before the signed-context check, so the requests it refuses are counted.
    app.use(httpMetrics(options.metrics));
  }
  if (contextKeys !== false) {
    app.use(
      requireSignedContext({
        keys: contextKeys,
        audience: options.contextAudience ?? options.serviceName,
        publicPaths: [...DEFAULT_PUBLIC_PATHS, ...(options.publicPaths ?? [])],
        publicRoutes: options.publicRoutes,
        logger,
      }),
    );
  }
  if (options.metrics) app.use(identifyRequestTenant());
  app.use(jsonBody(options.bodyLimit ?? '100kb'));

  options.configure(app);

  app.use((_req, _res, next) => next(notFound('No route matches this method and path.')));
  app.use(errorHandler({ logger }));
  return app;
}
