import type { Logger } from 'winston';
import { AUTHORIZATION_EVENTS } from '@tenantry/contracts';
import type { ServiceHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import type { PlatformMetrics } from '@tenantry/observability';
import { PolicyChangeRecorder } from './application/record-policy-change/policy-change-recorder';
import { IdentityPolicySync } from './application/sync-identity/identity-policy-sync';
import type { AuthorizationConfig } from './config';
import type { AuthorizationApi } from './http/authorization-api';
import { authorizationApi } from './http/authorization-api';
import { createAuthorizationConsumers } from './messaging/authorization-consumers';
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

export interface AuthorizationParts {
  readonly engine: PolicyEngine;
  readonly api: AuthorizationApi;
  /** Policy-changed events this replica's cache consumer has handled. */
  cacheEventsHandled(): number;
}

export type AuthorizationServiceHandle = ServiceHandle<PlatformMetrics, AuthorizationParts>;

/** The authorization service: Casbin policies per tenant, the audit log, and the check API. */
export function startAuthorizationService(
  config: AuthorizationConfig,
  options: AuthorizationServiceOptions = {},
): Promise<AuthorizationServiceHandle> {
  return createService({
    name: 'authorization',
    instanceId: config.instanceId,
    logger: options.logger,
    database: {
      appUrl: config.databaseUrl,
      ownerUrl: config.databaseOwnerUrl,
      poolSize: config.databasePoolSize,
      entities: AUTHORIZATION_ENTITIES,
      migrations: AUTHORIZATION_MIGRATIONS,
    },
    kafkaBrokers: config.kafkaBrokers,
    schemaRegistryUrl: config.schemaRegistryUrl,
    produces: AUTHORIZATION_EVENTS,
    relay: { pollIntervalMs: options.relayPollIntervalMs },
    http: { contextKeys: config.contextKeys, port: config.port, host: config.host },
    assemble({ dataSource, outbox, consumers, logger }) {
      const repository = new PolicyRepository();
      const audit = new AuditLogRepository();
      const useCases = { repository, recorder: new PolicyChangeRecorder(outbox, audit) };
      const engine = new PolicyEngine({
        dataSource,
        cacheSize: config.enforcerCacheSize,
        ttlMs: config.enforcerTtlMs,
        pollIntervalMs: config.policyPollMs,
        logger,
      });
      let cacheEvents = 0;
      createAuthorizationConsumers({
        consumers,
        sync: new IdentityPolicySync(useCases, logger),
        audit,
        engine,
        groupPrefix: config.consumerGroupPrefix,
        onCacheEvent: (outcome) => {
          if (outcome === 'processed') cacheEvents += 1;
        },
      });
      const api = authorizationApi({ dataSource, engine, repository, audit, useCases });
      return {
        http: {
          publicRoutes: [...api.publicRoutes.publicRoutes(), ...api.metaRoutes.publicRoutes()],
          configure(app) {
            api.publicRoutes.mount(app);
            api.internalRoutes.mount(app);
            api.metaRoutes.mount(app);
          },
        },
        tasks: [
          {
            name: 'policy version poll',
            start: () => engine.startPolling(),
            stop: () => engine.stopPolling(),
          },
        ],
        exposes: { engine, api, cacheEventsHandled: () => cacheEvents },
      };
    },
  });
}
