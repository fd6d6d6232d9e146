import { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { GATEWAY_EVENTS } from '@tenantry/contracts';
import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { edgeServerSpans } from '@tenantry/observability';
import type { ServiceHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import { ApiKeyVerifier } from './auth/api-key-verifier';
import { AuthorizationClient } from './auth/authorization-client';
import { authorizationPermissionCheck } from './auth/authorization-permission-check';
import { IdentityClient } from './auth/identity-client';
import { JwtVerifier } from './auth/jwt-verifier';
import type { PermissionCheck } from './auth/permission-check';
import { PermissionDecisionCache } from './auth/permission-decision-cache';
import { RequestAuthenticator } from './auth/request-authenticator';
import { RevocationList } from './auth/revocation-list';
import { TenantStatusChecker } from './auth/tenant-status-checker';
import type { GatewayConfig } from './config';
import { docsRoutes } from './http/docs-routes';
import { createGatewayMetrics } from './http/gateway-metrics';
import type { GatewayMetrics } from './http/gateway-metrics';
import { gatewayPipeline } from './http/gateway-pipeline';
import { createPolicyCacheConsumer } from './messaging/policy-cache-consumer';
import { RevocationConsumer } from './messaging/revocation-consumer';
import { OpenApiCatalog } from './openapi/openapi-catalog';
import { OpenApiRefresher } from './openapi/openapi-refresher';
import { SharedContextTokens } from './proxy/shared-context-tokens';
import { UpstreamProxy } from './proxy/upstream-proxy';
import { AuthFailureLimiter } from './rate-limit/auth-failure-limiter';
import { TenantRateLimiter } from './rate-limit/tenant-rate-limiter';
import { UsageRecorder } from './usage/usage-recorder';

export interface GatewayServiceOptions {
  readonly logger?: Logger;
  /** Replaces the coarse permission step (tests); by default the authorization service's. */
  readonly checkPermission?: PermissionCheck;
  /** Namespace of the rate-limit buckets in Redis (tests isolate themselves with it). */
  readonly rateLimitKeyPrefix?: string;
  /** Listen on the client and metrics ports (main) or not (tests start their own servers). */
  readonly listen?: boolean;
}

export interface GatewayParts {
  readonly usage: UsageRecorder;
  readonly catalog: OpenApiCatalog;
  /** Cached permission decisions (undefined when enforcement is off). */
  readonly decisions: PermissionDecisionCache | undefined;
  /** Fetches every service's OpenAPI document now (otherwise on a timer). */
  refreshOpenApi(): Promise<void>;
}

export type GatewayService = ServiceHandle<GatewayMetrics, GatewayParts>;

/**
 * The gateway: authenticates clients, stamps the verified context, limits, checks route
 * permissions and proxies. Its database holds only its outbox: usage events go through it like
 * every event. `metricsApp` is for the metrics port, never the port clients reach.
 */
export function createGatewayService(
  config: GatewayConfig,
  options: GatewayServiceOptions = {},
): Promise<GatewayService> {
  return createService({
    name: 'gateway',
    instanceId: config.instanceId,
    logger: options.logger,
    createMetrics: () => createGatewayMetrics(),
    database: {
      appUrl: config.databaseUrl,
      ownerUrl: config.databaseOwnerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    },
    kafkaBrokers: config.kafkaBrokers,
    schemaRegistryUrl: config.schemaRegistryUrl,
    produces: GATEWAY_EVENTS,
    http: {
      // The gateway authenticates clients and issues context tokens; it verifies none itself.
      contextKeys: false,
      port: config.port,
      host: config.host,
      metricsPort: config.metricsPort,
      bodyLimit: config.bodyLimitBytes,
      // Its own server span per request: telemetry starts with `httpSpans: 'edge'` (main.ts).
      first: edgeServerSpans(),
      // Recorded by the pipeline, by proxied route and tenant class.
      requestMetrics: false,
      listen: options.listen ?? false,
    },
    async assemble({ dataSource, outbox, kafka, consumers, logger, metrics, onStop }) {
      const usage = new UsageRecorder({
        dataSource,
        outbox,
        flushIntervalMs: config.usageFlushIntervalMs,
        flushMaxRows: config.usageFlushMaxRows,
        maxBufferedRows: config.usageMaxBufferedRows,
        log: logger,
        onDropped: (count) => metrics.usageDroppedTotal.inc(count),
        onWritten: (count) => metrics.usageWrittenTotal.inc(count),
      });

      const redis = new Redis(config.redisUrl, {
        lazyConnect: true,
        // Fail fast so a Redis outage lets requests through instead of queueing them.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        commandTimeout: 250,
        // Every request costs one or two Lua calls (auth-failure peek, token bucket); sent as one
        // write per event-loop tick instead of one each, they stop being a top CPU item
        // (bench/README.md, gateway profile). Order and atomicity per command are unchanged.
        enableAutoPipelining: true,
      });
      redis.on('error', (error: Error) => logger.warn('redis error', { error: error.message }));
      await redis.connect();
      onStop('redis', () => redis.disconnect());
      const rateLimitPrefix = options.rateLimitKeyPrefix ?? 'gateway:rate:';
      const publicRateLimiter = new TenantRateLimiter({
        redis,
        defaultPolicy: config.publicRateLimit,
        keyPrefix: `${rateLimitPrefix}public:`,
        onRedisError: () => metrics.rateLimiterErrorsTotal.inc(),
      });
      const authFailureLimiter = new AuthFailureLimiter({
        redis,
        policy: config.authFailureLimit,
        keyPrefix: `${rateLimitPrefix}auth-failures:`,
        onRedisError: () => metrics.rateLimiterErrorsTotal.inc(),
      });
      const rateLimiter = new TenantRateLimiter({
        redis,
        defaultPolicy: config.rateLimit,
        overrides: config.rateLimitOverrides,
        keyPrefix: options.rateLimitKeyPrefix,
        onRedisError: (error) => {
          metrics.rateLimiterErrorsTotal.inc();
          logger.warn('rate limit not checked: redis failed; request let through', {
            error: error instanceof Error ? error.message : String(error),
          });
        },
      });

      const identityUrl = config.serviceUrls.identity;
      if (!identityUrl) throw new Error('the gateway needs IDENTITY_URL');
      const identity = new IdentityClient({
        baseUrl: identityUrl,
        contextTokenKey: config.contextTokenKey,
        timeoutMs: config.identityTimeoutMs,
      });
      // Filled by identity's revocation events (below); each entry lives until its tokens expire.
      const revokedSessions = new RevocationList({ maxEntries: 100_000 });
      const apiKeys = new ApiKeyVerifier({ identity, cacheMs: config.apiKeyCacheMs });
      const authenticator = new RequestAuthenticator(
        new JwtVerifier({
          jwksUrl: new URL('/.well-known/jwks.json', identityUrl).toString(),
          issuer: config.identityIssuer,
          audience: config.accessTokenAudience,
          cacheMaxAgeMs: config.jwksCacheMaxAgeMs,
          cooldownMs: config.jwksCooldownMs,
          timeoutMs: config.identityTimeoutMs,
          clockToleranceSeconds: config.clockToleranceSeconds,
          revokedSessions,
        }),
        apiKeys,
        logger,
      );
      const tenantStatus = new TenantStatusChecker({
        identity,
        cacheMs: config.tenantStatusCacheMs,
      });

      const catalog = new OpenApiCatalog(config.routes);
      const refresher = new OpenApiRefresher({
        catalog,
        serviceUrls: config.serviceUrls,
        contextTokenKey: config.contextTokenKey,
        intervalMs: config.openApiRefreshMs,
        timeoutMs: config.identityTimeoutMs,
        log: logger,
      });

      let checkPermission = options.checkPermission;
      let decisions: PermissionDecisionCache | undefined;
      if (!checkPermission && config.authzEnforced) {
        const authorizationUrl = config.serviceUrls.authorization;
        if (!authorizationUrl) throw new Error('the gateway needs AUTHORIZATION_URL');
        decisions = new PermissionDecisionCache({
          ttlMs: config.authzDecisionTtlMs,
          maxEntries: config.authzDecisionCacheSize,
        });
        createPolicyCacheConsumer({ consumers, logger, cache: decisions });
        checkPermission = authorizationPermissionCheck({
          client: new AuthorizationClient({
            baseUrl: authorizationUrl,
            contextTokenKey: config.contextTokenKey,
            timeoutMs: config.authzTimeoutMs,
          }),
          cache: decisions,
          hasDocument: (service) => catalog.hasDocument(service),
          log: logger,
          onDecision: (outcome, cached, seconds) => {
            metrics.permissionChecksTotal.inc({ outcome, cached: String(cached) });
            if (seconds !== undefined) {
              metrics.permissionCheckDurationSeconds.observe(
                { outcome, cached: String(cached) },
                seconds,
              );
            }
          },
        });
      } else if (!checkPermission) {
        logger.warn('AUTHZ_ENFORCEMENT=off: route permissions are left to the services');
      }

      // Always on (not only with enforcement): authentication itself depends on it.
      const revocations = new RevocationConsumer({
        kafka,
        consumers,
        logger,
        apiKeys,
        sessions: revokedSessions,
        decisions,
      });

      const proxy = new UpstreamProxy({ timeoutMs: config.upstreamTimeoutMs });
      onStop('upstream proxy', () => proxy.close());
      return {
        http: {
          readinessChecks: { redis: () => redis.ping() },
          configure(app) {
            app.set('trust proxy', config.trustProxy);
            app.use(docsRoutes(catalog));
            app.use(
              gatewayPipeline({
                routes: config.routes,
                serviceUrls: config.serviceUrls,
                catalog,
                authenticator,
                tenantStatus,
                rateLimiter,
                publicRateLimiter,
                authFailureLimiter,
                checkPermission,
                contextTokens: new SharedContextTokens({ key: config.contextTokenKey }),
                proxy,
                usage,
                metrics,
                logger,
              }),
            );
          },
        },
        tasks: [
          // Stopped after the server closed: what the last requests recorded is flushed.
          { name: 'usage recorder', start: () => usage.start(), stop: () => usage.stop() },
          {
            name: 'openapi refresher',
            // A service that is down at start only delays its docs; the contract's routes hold.
            start: async () => {
              await refresher.refresh();
              refresher.start();
            },
            stop: () => refresher.stop(),
          },
          {
            name: 'revocation catch-up',
            start: () => revocations.waitUntilCaughtUp(),
            stop: () => undefined,
          },
        ],
        exposes: { usage, catalog, decisions, refreshOpenApi: () => refresher.refresh() },
      };
    },
  });
}
