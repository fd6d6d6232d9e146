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
import { ErasedUserRepository } from './persistence/erased-user-repository';
import { LocalExportFileStore } from './persistence/export-file-store';
import type { ExportFileStore } from './persistence/export-file-store';
import { ExportRepository } from './persistence/export-repository';
import { ExportExpirySweeper } from './jobs/export-expiry-sweeper';
import { UserErasureTask } from './jobs/user-erasure-task';
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
  /** Where "now" comes from for exports and their expiry (tests move it to expire links). */
  readonly now?: () => Date;
  /** Where export files go (default: the local directory of the config). */
  readonly exportFiles?: ExportFileStore;
  /** False: no timer sweeps expired exports (tests call `exportSweeper.tick()`). */
  readonly sweepExports?: boolean;
  /** How often erased users are cleared from the tenants (tests use a short one). */
  readonly userErasureIntervalMs?: number;
}

export interface ReportingParts {
  readonly deps: ReadModelDeps;
  readonly api: ReportingApi;
  readonly readModelConsumers: ReportingConsumers;
  readonly exportSweeper: ExportExpirySweeper;
  readonly userErasure: UserErasureTask;
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
        erasedUsers: new ErasedUserRepository(),
      };
      const exports = new ExportRepository();
      const files = options.exportFiles ?? new LocalExportFileStore(config.exports.directory);
      const exportSweeper = new ExportExpirySweeper({
        dataSource,
        exports,
        files,
        logger,
        intervalMs: config.exports.sweepIntervalMs,
        now,
      });
      const userErasure = new UserErasureTask({
        dataSource,
        erasedUsers: deps.erasedUsers,
        members: deps.members,
        logger,
        intervalMs: options.userErasureIntervalMs ?? 5000,
        now,
      });
      const readModelConsumers = createReportingConsumers({
        consumers,
        deps,
        outbox,
        groupPrefix: config.consumerGroupPrefix,
        ...(retry ? { retry } : {}),
        ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
        exportJobs: { dataSource, deps, exports, files, outbox, settings: config.exports, now },
      });
      const api = reportingApi(
        { dataSource, deps, exports, files, outbox, settings: config.exports, now },
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
        tasks: [
          {
            name: 'export expiry sweeper',
            start: () => {
              if (options.sweepExports !== false) exportSweeper.start();
            },
            // Also gives up the lock a test's own tick() took.
            stop: () => exportSweeper.stop(),
          },
          {
            name: 'user erasure',
            start: () => userErasure.start(),
            stop: () => userErasure.stop(),
          },
        ],
        exposes: { deps, api, readModelConsumers, exportSweeper, userErasure },
      };
    },
  });
}
