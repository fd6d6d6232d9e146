import type { Request, RequestHandler } from 'express';
import type { PlatformMetrics } from '@tenantry/observability';
import { currentTenantContext } from '@tenantry/tenancy';

/**
 * The route pattern that served a request (`/v1/members/:userId`), never the raw path, so
 * metrics keep a bounded number of series; `unmatched` when no route matched.
 */
function routeOf(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  return typeof route?.path === 'string' ? `${req.baseUrl}${route.path}` : 'unmatched';
}

/**
 * Tenant class of a request, a small fixed set rather than the tenant id (which would make one
 * series per tenant): `tenant` for tenant actors, `platform` for services and operators, and
 * `anonymous` for public routes.
 */
function tenantClassOf(): string {
  const context = currentTenantContext();
  if (!context) return 'anonymous';
  return context.actor.type === 'service' || context.actor.type === 'operator'
    ? 'platform'
    : 'tenant';
}

/**
 * Request rate and latency by route, method, status and tenant class. Mount it after the
 * signed-context check, so the tenant context of the request is known when it runs.
 */
export function httpMetrics(metrics: PlatformMetrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpRequestDurationSeconds.startTimer();
    const tenantClass = tenantClassOf();
    const tenantId = currentTenantContext()?.tenantId;
    res.once('finish', () => {
      const labels = {
        route: routeOf(req),
        method: req.method,
        status: String(res.statusCode),
        tenant_class: tenantClass,
      };
      metrics.httpRequestsTotal.inc(labels);
      metrics.httpTenantRequestsTotal.inc({
        tenant: metrics.topTenants.observe(tenantId),
        route: labels.route,
        status: labels.status,
      });
      stop(labels);
    });
    next();
  };
}
