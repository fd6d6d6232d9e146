import type { Request, RequestHandler, Response } from 'express';
import { HttpProblem, badRequest, requestIdOf, tooManyRequests } from '@tenantry/http';
import {
  TENANT_SPAN_ATTRIBUTES,
  nameServerSpanByRoute,
  tagActiveSpanWithTenant,
  tagServerSpan,
} from '@tenantry/observability';
import type { TenantContext } from '@tenantry/tenancy';
import type { AuthenticatedActor } from '../auth/authenticated-actor';
import { IdentityUnavailableError, PLATFORM_TENANT_ID } from '../auth/identity-client';
import type { PermissionCheck } from '../auth/permission-check';
import type { RequestAuthenticator } from '../auth/request-authenticator';
import { authenticationUnavailable } from '../auth/request-authenticator';
import type { TenantStatusChecker } from '../auth/tenant-status-checker';
import type { OpenApiCatalog } from '../openapi/openapi-catalog';
import type { RouteTable } from '../proxy/route-table';
import { isAmbiguousPath, resolveRoute } from '../proxy/route-table';
import { upstreamRequestHeaders } from '../proxy/upstream-headers';
import type { StampedContext } from '../proxy/upstream-headers';
import type { SharedContextTokens } from '../proxy/shared-context-tokens';
import type { UpstreamProxy } from '../proxy/upstream-proxy';
import type { AuthFailureLimiter } from '../rate-limit/auth-failure-limiter';
import type { TenantRateLimiter } from '../rate-limit/tenant-rate-limiter';
import { rateLimitHeaders } from '../rate-limit/tenant-rate-limiter';
import type { UsageRecorder } from '../usage/usage-recorder';
import type { GatewayMetrics } from './gateway-metrics';

export interface GatewayPipelineOptions {
  readonly routes: RouteTable;
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly catalog: OpenApiCatalog;
  readonly authenticator: RequestAuthenticator;
  readonly tenantStatus: TenantStatusChecker;
  readonly rateLimiter: TenantRateLimiter;
  /** Buckets per client address for unauthenticated calls that change something. */
  readonly publicRateLimiter?: TenantRateLimiter;
  /** Failed authentications per client address; a spent address is refused before identity. */
  readonly authFailureLimiter?: AuthFailureLimiter;
  /** Coarse route permissions (authorization service); skipped only when enforcement is off. */
  readonly checkPermission?: PermissionCheck;
  /** The signed context stamped on forwarded requests (shared per tenant, actor and audience). */
  readonly contextTokens: SharedContextTokens;
  readonly proxy: UpstreamProxy;
  readonly usage: UsageRecorder;
  readonly metrics: GatewayMetrics;
  readonly logger: { warn(message: string, meta?: Record<string, unknown>): void };
}

const tenantInactive = (status: string): HttpProblem =>
  new HttpProblem({
    status: 403,
    title: 'Forbidden',
    slug: status === 'suspended' ? 'tenant-suspended' : 'tenant-inactive',
    detail:
      status === 'suspended'
        ? 'This tenant is suspended.'
        : 'This tenant does not exist or is no longer active.',
  });

const serviceUnavailable = (): HttpProblem =>
  new HttpProblem({
    status: 503,
    title: 'Service unavailable',
    slug: 'service-unavailable',
    detail: 'The service behind this route is not available.',
    headers: { 'retry-after': '5' },
  });

function tenantClassOf(principal: AuthenticatedActor | undefined, isPublic: boolean): string {
  if (principal) return principal.actor.type === 'operator' ? 'operator' : 'tenant';
  return isPublic ? 'public' : 'unauthenticated';
}

/**
 * Every routed request, in this order:
 *   1. route: the owning service from the route table (unknown paths fall through to 404);
 *   2. authenticate (skipped on public operations): bearer JWT or API key -> tenant + actor;
 *      an address that spent its budget of failed authentications gets 429 before any lookup;
 *   3. rate limit: the tenant's token bucket (429 + Retry-After);
 *   4. tenant status: suspended or deleted tenants are refused (403);
 *   5. check permission: the operation's `x-permission`, decided by the authorization service
 *      (cached; 403 when denied, 503 when it cannot answer);
 *   6. stamp and forward: client context headers stripped, verified context and signed token
 *      stamped, proxied with a timeout (502 / 504 problems);
 *   7. on completion: one usage event per call of a known tenant, and request metrics.
 */
export function gatewayPipeline(options: GatewayPipelineOptions): RequestHandler {
  const { catalog, metrics } = options;
  // Parsed once, not per request: the upstreams are configuration.
  const upstreamHosts = new Map(
    Object.entries(options.serviceUrls).map(([name, url]) => [name, new URL(url).host]),
  );

  return async (req: Request, res: Response, next) => {
    // Before routing: such a path could mean one route here and another behind a normaliser.
    if (isAmbiguousPath(req.path)) {
      throw badRequest('The request path contains dot segments or encoded separators.');
    }
    const resolved = resolveRoute(options.routes, req.path);
    if (!resolved) {
      next();
      return;
    }
    const started = performance.now();
    const requestId = requestIdOf(req) as string;
    const service = resolved.entry.service;
    const operation = catalog.operationFor(req.method, req.path);
    const isPublic = catalog.isPublicOperation(req.method, operation);
    // Bounded label: the declared pattern, else the table entry it fell under.
    const route =
      operation?.route ??
      (req.path === resolved.entry.prefix ? resolved.entry.prefix : `${resolved.entry.prefix}/*`);
    nameServerSpanByRoute(route);
    tagServerSpan({ [TENANT_SPAN_ATTRIBUTES.requestId]: requestId });
    let principal: AuthenticatedActor | undefined;

    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const seconds = (performance.now() - started) / 1000;
      const labels = {
        route,
        method: req.method,
        status: String(status),
        tenant_class: tenantClassOf(principal, isPublic),
      };
      metrics.httpRequestsTotal.inc(labels);
      metrics.httpRequestDurationSeconds.observe(labels, seconds);
      metrics.httpTenantRequestsTotal.inc({
        tenant: metrics.topTenants.observe(principal?.tenantId),
        route,
        status: labels.status,
      });
      if (principal) {
        options.usage.record({
          tenantId: principal.tenantId,
          actorType: principal.actor.type,
          actorId: principal.actor.id,
          method: req.method,
          route,
          service,
          status,
          latencyMs: Math.round(seconds * 1000 * 100) / 100,
          requestId,
          completedAt: new Date().toISOString(),
        });
      }
    });

    let stamped: StampedContext | undefined;
    // Public calls have no tenant to charge: sign-up, login and token refresh are limited per
    // client address instead (reads such as the JWKS are not).
    if (isPublic && options.publicRateLimiter && req.method !== 'GET' && req.method !== 'HEAD') {
      const decision = await options.publicRateLimiter.take(`ip:${req.ip ?? 'unknown'}`);
      if (!decision.allowed) {
        metrics.rateLimitedTotal.inc({ limit: 'public' });
        for (const [name, value] of Object.entries(rateLimitHeaders(decision))) {
          res.setHeader(name, value);
        }
        throw tooManyRequests('Too many unauthenticated requests from this address.', {
          retryAfterSeconds: Math.max(1, decision.retryAfterSeconds),
        });
      }
    }
    if (!isPublic) {
      const clientAddress = `ip:${req.ip ?? 'unknown'}`;
      if (options.authFailureLimiter) {
        const allowed = await options.authFailureLimiter.check(clientAddress);
        if (!allowed.allowed) {
          metrics.rateLimitedTotal.inc({ limit: 'auth_failure' });
          throw tooManyRequests('Too many failed authentications from this address.', {
            retryAfterSeconds: Math.max(1, allowed.retryAfterSeconds),
          });
        }
      }
      try {
        principal = await options.authenticator.authenticate(req.headers, requestId);
        tagActiveSpanWithTenant({
          tenantId: principal.tenantId,
          actor: principal.actor,
          requestId,
        });
      } catch (error) {
        if (error instanceof HttpProblem && error.status === 401) {
          metrics.authFailuresTotal.inc();
          await options.authFailureLimiter?.recordFailure(clientAddress);
        }
        throw error;
      }

      const decision = await options.rateLimiter.take(principal.tenantId);
      for (const [name, value] of Object.entries(rateLimitHeaders(decision))) {
        res.setHeader(name, value);
      }
      if (!decision.allowed) {
        metrics.rateLimitedTotal.inc({ limit: 'tenant' });
        metrics.tenantRateLimitedTotal.inc({
          tenant: metrics.topTenants.observe(principal.tenantId),
        });
        throw tooManyRequests('This tenant is sending requests faster than its rate limit.', {
          retryAfterSeconds: Math.max(1, decision.retryAfterSeconds),
        });
      }

      // Operators act across tenants (including suspended ones, to lift a suspension); the
      // service still decides what an operator may do there.
      if (principal.actor.type !== 'operator' && principal.tenantId !== PLATFORM_TENANT_ID) {
        let status: string;
        try {
          status = await options.tenantStatus.statusOf(principal.tenantId, requestId);
        } catch (error) {
          if (error instanceof IdentityUnavailableError) throw authenticationUnavailable(error);
          throw error;
        }
        if (status !== 'active') throw tenantInactive(status);
      }

      // Hook: coarse route permission, decided by tenant and role (authorization service).
      let grantedPermissions: string[] | undefined;
      if (options.checkPermission) {
        await options.checkPermission({
          principal,
          method: req.method,
          path: req.path,
          route: operation?.route,
          permission: operation?.permission,
          service,
          requestId,
        });
        // Passed the check: the service can rely on this decision instead of repeating it.
        const checked = operation?.permission;
        if (checked && checked !== 'public' && checked !== 'authenticated') {
          grantedPermissions = [checked];
        }
      }

      const context: TenantContext = {
        tenantId: principal.tenantId,
        actor: principal.actor,
        requestId,
        ...(grantedPermissions ? { grantedPermissions } : {}),
      };
      const token = await options.contextTokens.tokenFor(
        {
          tenantId: context.tenantId,
          actor: context.actor,
          ...(grantedPermissions ? { grantedPermissions } : {}),
        },
        service,
      );
      stamped = { context, token };
    }

    const baseUrl = options.serviceUrls[service];
    if (!baseUrl) throw serviceUnavailable();
    // The body as parsed here, re-serialised: the service parses exactly what the gateway
    // parsed (no duplicate-key or encoding tricks that two parsers could read differently).
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers = upstreamRequestHeaders({
      incoming: req.headers,
      requestId,
      stamped,
      // The client as `trust proxy` resolves it (the socket peer unless a trusted hop said
      // otherwise): services limit per client, and behind an ingress the peer is the ingress.
      clientAddress: req.ip ?? req.socket.remoteAddress,
      protocol: req.protocol,
      upstreamHost: upstreamHosts.get(service) as string,
      bodyLength: body?.length,
    });
    await options.proxy.forward(
      { baseUrl, method: req.method, pathAndQuery: req.originalUrl, headers, body },
      res,
    );
  };
}
