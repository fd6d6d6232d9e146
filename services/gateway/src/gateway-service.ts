import type { Express } from 'express';
import { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { GATEWAY_EVENTS, PLATFORM_TOPICS } from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { ServiceDatabaseConfig } from '@tenantry/db';
import type { InboxConsumer } from '@tenantry/events';
import {
  EventCodec,
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  InstanceInboxJanitor,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import { createHttpApp, createMetricsApp } from '@tenantry/http';
import { createLogger } from '@tenantry/observability';
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
import {
  POLICY_CACHE_CONSUMER_PREFIX,
  createPolicyCacheConsumer,
} from './messaging/policy-cache-consumer';
import { REVOCATION_CONSUMER_PREFIX, RevocationConsumer } from './messaging/revocation-consumer';
import { OpenApiCatalog } from './openapi/openapi-catalog';
import { OpenApiRefresher } from './openapi/openapi-refresher';
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
}

export interface GatewayService {
  readonly app: Express;
  /** `GET /metrics` only, for the metrics port: never on the port clients reach. */
  readonly metricsApp: Express;
  readonly metrics: GatewayMetrics;
  readonly usage: UsageRecorder;
  readonly relay: OutboxRelay;
  readonly catalog: OpenApiCatalog;
  /** Cached permission decisions (undefined when enforcement is off). */
  readonly decisions: PermissionDecisionCache | undefined;
  /** Fetches every service's OpenAPI document now (otherwise on a timer). */
  refreshOpenApi(): Promise<void>;
  /** Flushes usage, stops the relay and closes every connection. Call after the server closed. */
  stop(): Promise<void>;
}

/** Builds the gateway from its config: database and outbox, Kafka, Redis, identity, the app. */
export async function createGatewayService(
  config: GatewayConfig,
  options: GatewayServiceOptions = {},
): Promise<GatewayService> {
  const logger = options.logger ?? createLogger('gateway');
  const metrics = createGatewayMetrics();

  // The gateway's database holds only its outbox: usage events go through it like every event.
  const database: ServiceDatabaseConfig = {
    appUrl: config.databaseUrl,
    ownerUrl: config.databaseOwnerUrl,
    entities: [],
    migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
    applicationName: 'gateway',
  };
  await migrateServiceDatabase(database);
  const dataSource = await openServiceDataSource(database);

  const kafka = createKafkaClient({ clientId: 'gateway', brokers: config.kafkaBrokers, logger });
  await provisionTopics(kafka, PLATFORM_TOPICS);
  const codec = new EventCodec(config.schemaRegistryUrl);
  // Authorization's events are decoded with their definitions (reader schemas); only what the
  // gateway produces is registered here.
  await codec.register(GATEWAY_EVENTS);
  const relay = new OutboxRelay({ dataSource, kafka, logger, metrics, pollIntervalMs: 1000 });
  await relay.start();

  const usage = new UsageRecorder({
    dataSource,
    outbox: new Outbox(codec, '/services/gateway'),
    flushIntervalMs: config.usageFlushIntervalMs,
    flushMaxRows: config.usageFlushMaxRows,
    maxBufferedRows: config.usageMaxBufferedRows,
    log: logger,
    onDropped: (count) => metrics.usageDroppedTotal.inc(count),
    onWritten: (count) => metrics.usageWrittenTotal.inc(count),
  });
  usage.start();

  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    // Fail fast so a Redis outage lets requests through instead of queueing them.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
  });
  redis.on('error', (error: Error) => logger.warn('redis error', { error: error.message }));
  await redis.connect();
  const publicRateLimiter = new TenantRateLimiter({
    redis,
    defaultPolicy: config.publicRateLimit,
    keyPrefix: `${options.rateLimitKeyPrefix ?? 'gateway:rate:'}public:`,
    onRedisError: () => metrics.rateLimiterErrorsTotal.inc(),
  });
  const authFailureLimiter = new AuthFailureLimiter({
    redis,
    policy: config.authFailureLimit,
    keyPrefix: `${options.rateLimitKeyPrefix ?? 'gateway:rate:'}auth-failures:`,
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
  const tenantStatus = new TenantStatusChecker({ identity, cacheMs: config.tenantStatusCacheMs });

  const catalog = new OpenApiCatalog(config.routes);
  const refresher = new OpenApiRefresher({
    catalog,
    serviceUrls: config.serviceUrls,
    contextTokenKey: config.contextTokenKey,
    intervalMs: config.openApiRefreshMs,
    timeoutMs: config.identityTimeoutMs,
    log: logger,
  });
  // A service that is down at start only delays its docs; the contract's public routes hold.
  await refresher.refresh();
  refresher.start();

  let checkPermission = options.checkPermission;
  let decisions: PermissionDecisionCache | undefined;
  let policyConsumer: InboxConsumer | undefined;
  let janitor: InstanceInboxJanitor | undefined;
  const policyConsumerName = `${POLICY_CACHE_CONSUMER_PREFIX}${config.instanceId}`;
  if (!checkPermission && config.authzEnforced) {
    const authorizationUrl = config.serviceUrls.authorization;
    if (!authorizationUrl) throw new Error('the gateway needs AUTHORIZATION_URL');
    decisions = new PermissionDecisionCache({
      ttlMs: config.authzDecisionTtlMs,
      maxEntries: config.authzDecisionCacheSize,
    });
    policyConsumer = createPolicyCacheConsumer({
      kafka,
      dataSource,
      codec,
      logger,
      metrics,
      cache: decisions,
      instanceId: config.instanceId,
    });
    await policyConsumer.start();
    janitor = new InstanceInboxJanitor({
      dataSource,
      logger,
      consumerPrefix: POLICY_CACHE_CONSUMER_PREFIX,
      consumerName: policyConsumerName,
    });
    janitor.start();
    checkPermission = authorizationPermissionCheck({
      client: new AuthorizationClient({
        baseUrl: authorizationUrl,
        contextTokenKey: config.contextTokenKey,
        timeoutMs: config.authzTimeoutMs,
      }),
      cache: decisions,
      hasDocument: (service) => catalog.hasDocument(service),
      log: logger,
      onDecision: (outcome, cached) =>
        metrics.permissionChecksTotal.inc({ outcome, cached: String(cached) }),
    });
  } else if (!checkPermission) {
    logger.warn('AUTHZ_ENFORCEMENT=off: route permissions are left to the services');
  }

  // Always on (not only with enforcement): authentication itself depends on it.
  const revocations = new RevocationConsumer({
    kafka,
    dataSource,
    codec,
    logger,
    metrics,
    apiKeys,
    sessions: revokedSessions,
    decisions,
    instanceId: config.instanceId,
  });
  await revocations.start();
  const revocationJanitor = new InstanceInboxJanitor({
    dataSource,
    logger,
    consumerPrefix: REVOCATION_CONSUMER_PREFIX,
    consumerName: revocations.name,
  });
  revocationJanitor.start();

  const proxy = new UpstreamProxy({ timeoutMs: config.upstreamTimeoutMs });
  const app = createHttpApp({
    serviceName: 'gateway',
    logger,
    // The gateway authenticates clients and issues context tokens; it verifies none itself.
    contextKeys: false,
    bodyLimit: config.bodyLimitBytes,
    readinessChecks: {
      database: () => dataSource.query('SELECT 1'),
      redis: () => redis.ping(),
    },
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
          contextTokenKey: config.contextTokenKey,
          proxy,
          usage,
          metrics,
          logger,
        }),
      );
    },
  });

  let stopped: Promise<void> | undefined;
  return {
    app,
    metricsApp: createMetricsApp(metrics.registry),
    metrics,
    usage,
    relay,
    catalog,
    decisions,
    refreshOpenApi: () => refresher.refresh(),
    stop() {
      stopped ??= (async () => {
        refresher.stop();
        janitor?.stop();
        revocationJanitor.stop();
        if (policyConsumer) {
          await policyConsumer.stop();
          await forgetInstanceConsumer(kafka, janitor, policyConsumerName, logger);
        }
        await revocations.stop();
        await forgetInstanceConsumer(kafka, revocationJanitor, revocations.name, logger);
        await usage.stop();
        await relay.stop();
        proxy.close();
        redis.disconnect();
        await dataSource.destroy();
      })();
      return stopped;
    },
  };
}

/**
 * A replica's per-instance consumer groups (policy cache, revocations) and inbox rows are never
 * reused (the next process has another instance id): a clean stop removes both; a crashed
 * replica's are pruned by the janitor (rows) and by Kafka's `offsets.retention.minutes` (group).
 */
async function forgetInstanceConsumer(
  kafka: ReturnType<typeof createKafkaClient>,
  janitor: InstanceInboxJanitor | undefined,
  consumerName: string,
  logger: Logger,
): Promise<void> {
  try {
    await janitor?.forgetOwnRows();
  } catch (error) {
    logger.warn('could not delete this replica’s inbox rows', {
      err: error,
      consumer: consumerName,
    });
  }
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([consumerName]);
  } catch (error) {
    logger.warn('could not delete this replica’s consumer group', {
      err: error,
      consumer: consumerName,
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
