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

/** Who a request acted as, once the signed-context check has admitted it. */
interface RequestTenant {
  readonly tenantClass: string;
  readonly tenantId: string | undefined;
}

const requestTenants = new WeakMap<Request, RequestTenant>();
const UNVERIFIED: RequestTenant = { tenantClass: 'anonymous', tenantId: undefined };

/**
 * Tenant class of a request, a small fixed set rather than the tenant id (which would make one
 * series per tenant): `tenant` for tenant actors, `platform` for services and operators, and
 * `anonymous` for public routes and for requests refused before a context was verified.
 */
function tenantOf(): RequestTenant {
  const context = currentTenantContext();
  if (!context) return UNVERIFIED;
  const platform = context.actor.type === 'service' || context.actor.type === 'operator';
  return { tenantClass: platform ? 'platform' : 'tenant', tenantId: context.tenantId };
}

/**
 * Request rate and latency by route, method, status and tenant class. Mount it before the
 * signed-context check, so the requests that check refuses (401: a gateway with the wrong key,
 * a caller bypassing it) are counted too, and `identifyRequestTenant` after it.
 */
export function httpMetrics(metrics: PlatformMetrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpRequestDurationSeconds.startTimer();
    res.once('finish', () => {
      // Not identified: refused before a context was verified.
      const tenant = requestTenants.get(req) ?? UNVERIFIED;
      const labels = {
        route: routeOf(req),
        method: req.method,
        status: String(res.statusCode),
        tenant_class: tenant.tenantClass,
      };
      metrics.httpRequestsTotal.inc(labels);
      metrics.httpTenantRequestsTotal.inc({
        tenant: metrics.topTenants.observe(tenant.tenantId),
        route: labels.route,
        status: labels.status,
      });
      stop(labels);
    });
    next();
  };
}

/** Records the verified tenant of a request for `httpMetrics` (the context is set by now). */
export function identifyRequestTenant(): RequestHandler {
  return (req, _res, next) => {
    requestTenants.set(req, tenantOf());
    next();
  };
}
