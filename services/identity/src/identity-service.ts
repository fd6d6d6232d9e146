import Redis from 'ioredis';
import type { Logger } from 'winston';
import { IDENTITY_EVENTS } from '@tenantry/contracts';
import type { InboxConsumer } from '@tenantry/events';
import type { PlatformMetrics } from '@tenantry/observability';
import type { ServiceHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import type { IdentityDeps } from './application/identity-deps';
import type { IdentityConfig } from './config';
import type { Clock } from './domain/clock';
import { SYSTEM_CLOCK } from './domain/clock';
import type { IdentityHttpApi } from './http/identity-http-app';
import { createIdentityHttpApi } from './http/identity-http-app';
import { TenantPurgeScheduler } from './jobs/tenant-purge-scheduler';
import { createOffboardingConsumer } from './messaging/offboarding-consumer';
import { identityDatabase } from './persistence/identity-database';
import { KeyEncryption } from './security/key-encryption';
import { LoginRateLimiter } from './security/login-rate-limiter';
import { PasswordHasher } from './security/password-hasher';
import { AccessTokenIssuer } from './tokens/access-token-issuer';
import { SigningKeyStore } from './tokens/signing-key-store';

export interface IdentityServiceOptions {
  /** Listen on `config.port` (main) or not (tests call `app` with supertest). */
  readonly listen?: boolean;
  readonly logger?: Logger;
  /** Where "now" comes from for the offboarding saga (tests move it). */
  readonly clock?: Clock;
}

export interface IdentityParts {
  readonly api: IdentityHttpApi;
  readonly deps: IdentityDeps;
  /** Starts the purge of tenants whose deletion grace period ended (tests call `tick()`). */
  readonly purgeScheduler: TenantPurgeScheduler;
  /** The services' purge confirmations. */
  readonly offboarding: InboxConsumer;
}

export type IdentityService = ServiceHandle<PlatformMetrics, IdentityParts>;

/**
 * The identity service: tenants, users, memberships, invitations, API keys and the signing keys
 * of access tokens, and the offboarding saga (its scheduler and the services' confirmations). A
 * signing key exists before the first request is served.
 */
export function createIdentityService(
  config: IdentityConfig,
  options: IdentityServiceOptions = {},
): Promise<IdentityService> {
  const database = identityDatabase(config.database);
  return createService({
    name: 'identity',
    logger: options.logger,
    database,
    kafkaBrokers: config.kafkaBrokers,
    schemaRegistryUrl: config.schemaRegistryUrl,
    produces: IDENTITY_EVENTS,
    http: {
      contextKeys: config.contextKeys,
      port: config.port,
      host: config.host,
      // Nothing identity accepts is large; a small limit keeps argon2 and JSON parsing cheap.
      bodyLimit: '16kb',
      listen: options.listen ?? false,
    },
    async assemble({ dataSource, outbox, consumers, logger, onStop }) {
      const redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
      redis.on('error', (error: Error) => logger.warn('redis error', { err: error }));
      onStop('redis', () => redis.quit().catch(() => redis.disconnect()));
      const signingKeys = new SigningKeyStore({
        dataSource,
        encryption: new KeyEncryption(config.keyEncryptionSecret),
        tokenTtlSeconds: config.accessTokenTtlSeconds,
      });
      await signingKeys.ensureSigningKey();
      const deps: IdentityDeps = {
        config,
        dataSource,
        outbox,
        passwords: new PasswordHasher(config.passwordHashMemoryKib),
        signingKeys,
        accessTokens: new AccessTokenIssuer(
          signingKeys,
          config.issuer,
          config.accessTokenTtlSeconds,
        ),
        loginLimiter: new LoginRateLimiter({
          redis,
          keyPrefix: config.redisKeyPrefix,
          perAccount: config.loginLimits.perAccount,
          perIp: config.loginLimits.perIp,
          windowSeconds: config.loginLimits.windowSeconds,
        }),
        logger,
        clock: options.clock ?? SYSTEM_CLOCK,
      };
      const offboarding = createOffboardingConsumer({
        consumers,
        deps,
        groupPrefix: config.consumerGroupPrefix,
        logger,
      });
      const purgeScheduler = new TenantPurgeScheduler({
        deps,
        logger,
        intervalMs: config.offboarding.schedulerIntervalMs,
      });
      const api = createIdentityHttpApi(deps);
      return {
        http: { publicRoutes: api.routes.publicRoutes(), configure: (app) => api.configure(app) },
        tasks: config.offboarding.schedulerEnabled
          ? [
              {
                name: 'tenant purge scheduler',
                start: () => purgeScheduler.start(),
                stop: () => purgeScheduler.stop(),
              },
            ]
          : [],
        exposes: { api, deps, purgeScheduler, offboarding },
      };
    },
  });
}
