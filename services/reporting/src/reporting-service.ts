import type { Logger } from 'winston';
import { REPORTING_EVENTS, REPORTING_JOBS } from '@tenantry/contracts';
import type { InboxOutcome, RetryPolicy } from '@tenantry/events';
import { PostgresIdempotencyStore } from '@tenantry/http';
import type { PlatformMetrics } from '@tenantry/observability';
import type { ServiceHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import type { ReportingConfig } from './config';
import type { ReportingApi } from './http/reporting-api';
import { reportingApi } from './http/reporting-api';
import type { ReadModelDeps } from './messaging/read-model-deps';
import type { ReportingConsumers } from './messaging/reporting-consumers';
import { createReportingConsumers } from './messaging/reporting-consumers';
import { ActivityRepository } from './persistence/activity-repository';
import { BillingRepository } from './persistence/billing-repository';
import { ExportRepository } from './persistence/export-repository';
import { FreshnessRepository } from './persistence/freshness-repository';
import { MemberRepository } from './persistence/member-repository';
import { PlatformRepository } from './persistence/platform-repository';
import { REPORTING_MIGRATIONS } from './persistence/migrations/reporting-migrations';
import { TenantRepository } from './persistence/tenant-repository';
import { UsageRepository } from './persistence/usage-repository';

export interface ReportingServiceOptions {
  readonly logger?: Logger;
  /** Relay poll interval (tests use a short one). */
  readonly relayPollIntervalMs?: number;
  /** Retries of a refused event before the DLQ (tests use few); wins over the config's. */
  readonly retry?: RetryPolicy;
  /** Every message's outcome, by consumer purpose (`identity`, `usage`...), for tests. */
  readonly onOutcome?: (consumer: string, outcome: InboxOutcome, tenantId?: string) => void;
  /** Where "now" comes from for exports (tests move it to expire links). */
  readonly now?: () => Date;
}

export interface ReportingParts {
  readonly deps: ReadModelDeps;
  readonly api: ReportingApi;
  readonly readModelConsumers: ReportingConsumers;
}

export type ReportingServiceHandle = ServiceHandle<PlatformMetrics, ReportingParts>;

/** The reporting service: per-tenant read models of every domain topic, and the report API. */
export function startReportingService(
  config: ReportingConfig,
  options: ReportingServiceOptions = {},
): Promise<ReportingServiceHandle> {
  const retry = options.retry ?? config.retry;
  return createService({
    name: 'reporting',
    instanceId: config.instanceId,
    logger: options.logger,
    database: {
      appUrl: config.databaseUrl,
      ownerUrl: config.databaseOwnerUrl,
      poolSize: config.databasePoolSize,
      // Raw SQL read models (conventions: a read-model service may stay flat).
      entities: [],
      migrations: REPORTING_MIGRATIONS,
    },
    kafkaBrokers: config.kafkaBrokers,
    schemaRegistryUrl: config.schemaRegistryUrl,
    produces: [...REPORTING_EVENTS, ...REPORTING_JOBS],
    relay: { pollIntervalMs: options.relayPollIntervalMs },
    http: { contextKeys: config.contextKeys, port: config.port, host: config.host },
    assemble({ dataSource, consumers, outbox, logger }) {
      const now = options.now ?? (() => new Date());
      const deps: ReadModelDeps = {
        tenants: new TenantRepository(),
        freshness: new FreshnessRepository(),
        usage: new UsageRepository(),
        members: new MemberRepository(),
        billing: new BillingRepository(),
        activity: new ActivityRepository(),
        platform: new PlatformRepository(),
      };
      const exports = new ExportRepository();
      const readModelConsumers = createReportingConsumers({
        consumers,
        deps,
        outbox,
        groupPrefix: config.consumerGroupPrefix,
        ...(retry ? { retry } : {}),
        ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
        exportJobs: { dataSource, deps, exports, outbox, settings: config.exports, now },
      });
      const api = reportingApi(
        { dataSource, deps, exports, outbox, settings: config.exports, now },
        { idempotencyStore: new PostgresIdempotencyStore(dataSource), logger },
      );
      return {
        http: {
          publicRoutes: [...api.publicRoutes.publicRoutes(), ...api.metaRoutes.publicRoutes()],
          configure(app) {
            api.publicRoutes.mount(app);
            api.metaRoutes.mount(app);
          },
        },
        exposes: { deps, api, readModelConsumers },
      };
    },
  });
}
