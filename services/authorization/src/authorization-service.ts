import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { AUTHORIZATION_EVENTS, PLATFORM_TOPICS } from '@tenantry/contracts';
import type { ServiceDatabaseConfig } from '@tenantry/db';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import {
  InstanceInboxJanitor,
  kafkaReadinessCheck,
  EventCodec,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  provisionTopics,
} from '@tenantry/events';
import { createHttpApp, startHttpServer } from '@tenantry/http';
import { createLogger, createMetrics } from '@tenantry/observability';
import {
  PolicyChangeRecorder,
  AUTHORIZATION_SOURCE,
} from './application/record-policy-change/policy-change-recorder';
import { IdentityPolicySync } from './application/sync-identity/identity-policy-sync';
import type { AuthorizationConfig } from './config';
import type { AuthorizationApi } from './http/authorization-api';
import { authorizationApi } from './http/authorization-api';
import {
  createAuthorizationConsumers,
  policyCacheConsumerPrefix,
} from './messaging/authorization-consumers';
import { AuditLogRepository } from './persistence/audit-log-repository';
import { AUTHORIZATION_ENTITIES } from './persistence/entities/authorization-entities';
import { AUTHORIZATION_MIGRATIONS } from './persistence/migrations/authorization-migrations';
import { PolicyRepository } from './persistence/policy-repository';
import { PolicyEngine } from './policy/policy-engine';

export interface AuthorizationServiceOptions {
  readonly logger?: Logger;
  /** Relay poll interval (tests use a short one). */
  readonly relayPollIntervalMs?: number;
}

export interface AuthorizationServiceHandle {
  readonly app: Express;
  /** The bound HTTP port (useful with PORT=0). */
  readonly port: number;
  readonly logger: Logger;
  readonly dataSource: DataSource;
  readonly engine: PolicyEngine;
  readonly api: AuthorizationApi;
  readonly instanceId: string;
  /** Policy-changed events this replica's cache consumer has handled. */
  cacheEventsHandled(): number;
  /** Stops taking requests, then consumers, relay and pool; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the service from its configuration: migrations (as the owner), the pool
 * (as the app role), topics, schemas, relay, consumers, then HTTP last so nothing is served
 * before the service can answer.
 */
export async function startAuthorizationService(
  config: AuthorizationConfig,
  options: AuthorizationServiceOptions = {},
): Promise<AuthorizationServiceHandle> {
  const logger = options.logger ?? createLogger('authorization');
  const stops: (() => Promise<unknown> | unknown)[] = [];
  const stopAll = async (): Promise<void> => {
    while (stops.length > 0) {
      const step = stops.pop()!;
      try {
        await step();
      } catch (error) {
        logger.warn('error while stopping', { err: error });
      }
    }
  };

  try {
    const database: ServiceDatabaseConfig = {
      appUrl: config.databaseUrl,
      ownerUrl: config.databaseOwnerUrl,
      entities: AUTHORIZATION_ENTITIES,
      migrations: AUTHORIZATION_MIGRATIONS,
      poolSize: config.databasePoolSize,
      applicationName: 'authorization',
    };
    const ran = await migrateServiceDatabase(database);
    if (ran.length > 0) logger.info('migrations ran', { migrations: ran });
    const dataSource = await openServiceDataSource(database);
    stops.push(() => dataSource.destroy());

    const kafka = createKafkaClient({
      clientId: `authorization-${config.instanceId}`,
      brokers: config.kafkaBrokers,
      logger,
    });
    await provisionTopics(kafka, PLATFORM_TOPICS);
    const codec = new EventCodec(config.schemaRegistryUrl);
    // Identity's events are decoded with their definitions (reader schemas); only what this
    // service produces is registered here.
    await codec.register(AUTHORIZATION_EVENTS);

    const metrics = createMetrics('authorization');
    const repository = new PolicyRepository();
    const audit = new AuditLogRepository();
    const recorder = new PolicyChangeRecorder(new Outbox(codec, AUTHORIZATION_SOURCE), audit);
    const useCases = { repository, recorder };
    const engine = new PolicyEngine({
      dataSource,
      cacheSize: config.enforcerCacheSize,
      ttlMs: config.enforcerTtlMs,
      pollIntervalMs: config.policyPollMs,
      logger,
    });

    const relay = new OutboxRelay({
      dataSource,
      kafka,
      logger,
      metrics,
      pollIntervalMs: options.relayPollIntervalMs ?? 1000,
    });
    await relay.start();
    stops.push(() => relay.stop());

    let cacheEvents = 0;
    const consumers = createAuthorizationConsumers({
      kafka,
      dataSource,
      codec,
      logger,
      metrics,
      sync: new IdentityPolicySync(useCases, logger),
      audit,
      engine,
      instanceId: config.instanceId,
      groupPrefix: config.consumerGroupPrefix,
      onCacheEvent: (outcome) => {
        if (outcome === 'processed') cacheEvents += 1;
      },
    });
    for (const consumer of [consumers.cache, consumers.policies, consumers.audit]) {
      stops.push(() => consumer.stop());
    }
    await Promise.all([
      consumers.cache.start(),
      consumers.policies.start(),
      consumers.audit.start(),
    ]);

    engine.startPolling();
    stops.push(() => engine.stopPolling());
    const janitor = new InstanceInboxJanitor({
      dataSource,
      logger,
      consumerPrefix: policyCacheConsumerPrefix(config.consumerGroupPrefix),
    });
    janitor.start();
    stops.push(() => janitor.stop());

    const api = authorizationApi({ dataSource, engine, repository, audit, useCases });
    const app = createHttpApp({
      serviceName: 'authorization',
      logger,
      contextKeys: config.contextKeys,
      publicRoutes: [...api.publicRoutes.publicRoutes(), ...api.metaRoutes.publicRoutes()],
      readinessChecks: {
        database: () => dataSource.query('SELECT 1'),
        kafka: kafkaReadinessCheck(kafka),
      },
      metrics,
      configure(express) {
        api.publicRoutes.mount(express);
        api.internalRoutes.mount(express);
        api.metaRoutes.mount(express);
      },
    });
    const server = await startHttpServer(app, { port: config.port, host: config.host, logger });
    stops.push(() => server.close());
    logger.info('authorization started', { port: server.port, instance: config.instanceId });

    let stopped: Promise<void> | undefined;
    return {
      app,
      port: server.port,
      logger,
      dataSource,
      engine,
      api,
      instanceId: config.instanceId,
      cacheEventsHandled: () => cacheEvents,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
