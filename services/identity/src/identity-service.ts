import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import Redis from 'ioredis';
import type { Logger } from 'winston';
import { IDENTITY_EVENTS, PLATFORM_TOPICS } from '@tenantry/contracts';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import {
  kafkaReadinessCheck,
  EventCodec,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import type { HttpServerHandle } from '@tenantry/http';
import { startHttpServer } from '@tenantry/http';
import { createLogger, createMetrics } from '@tenantry/observability';
import type { PlatformMetrics } from '@tenantry/observability';
import type { IdentityDeps } from './application/identity-deps';
import type { IdentityConfig } from './config';
import type { IdentityHttpApi } from './http/identity-http-app';
import { createIdentityHttpApi } from './http/identity-http-app';
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
}

export interface IdentityService {
  readonly app: Express;
  readonly api: IdentityHttpApi;
  readonly deps: IdentityDeps;
  readonly metrics: PlatformMetrics;
  readonly http: HttpServerHandle | undefined;
  /** Stops HTTP, the relay, Redis and the pool, in that order. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Builds the identity service from config: migrates (owner role), opens the app pool, provisions
 * topics, registers the event schemas, ensures a signing key, starts the outbox relay and the
 * HTTP app.
 */
export async function createIdentityService(
  config: IdentityConfig,
  options: IdentityServiceOptions = {},
): Promise<IdentityService> {
  const logger = options.logger ?? createLogger('identity');
  const metrics = createMetrics('identity');
  const database = identityDatabase(config.database);
  const ran = await migrateServiceDatabase(database);
  if (ran.length > 0) logger.info('migrations applied', { migrations: ran });
  const dataSource: DataSource = await openServiceDataSource(database);
  const redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on('error', (error: Error) => logger.warn('redis error', { err: error }));
  let relay: OutboxRelay | undefined;
  let http: HttpServerHandle | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await http?.close();
      await relay?.stop();
      await redis.quit().catch(() => redis.disconnect());
      if (dataSource.isInitialized) await dataSource.destroy();
      logger.info('identity stopped');
    })());

  try {
    const kafka = createKafkaClient({ clientId: 'identity', brokers: config.kafkaBrokers, logger });
    await provisionTopics(kafka, PLATFORM_TOPICS);
    const codec = new EventCodec(config.schemaRegistryUrl);
    await codec.register(IDENTITY_EVENTS);
    const signingKeys = new SigningKeyStore({
      dataSource,
      encryption: new KeyEncryption(config.keyEncryptionSecret),
      tokenTtlSeconds: config.accessTokenTtlSeconds,
    });
    await signingKeys.ensureSigningKey();
    const deps: IdentityDeps = {
      config,
      dataSource,
      outbox: new Outbox(codec, '/services/identity'),
      passwords: new PasswordHasher(config.passwordHashMemoryKib),
      signingKeys,
      accessTokens: new AccessTokenIssuer(signingKeys, config.issuer, config.accessTokenTtlSeconds),
      loginLimiter: new LoginRateLimiter({
        redis,
        keyPrefix: config.redisKeyPrefix,
        perAccount: config.loginLimits.perAccount,
        perIp: config.loginLimits.perIp,
        windowSeconds: config.loginLimits.windowSeconds,
      }),
      logger,
    };
    relay = new OutboxRelay({ dataSource, kafka, logger, metrics });
    await relay.start();
    const api = createIdentityHttpApi(deps, metrics, { kafka: kafkaReadinessCheck(kafka) });
    if (options.listen) {
      http = await startHttpServer(api.app, { port: config.port, host: config.host, logger });
    }
    return { app: api.app, api, deps, metrics, http, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
