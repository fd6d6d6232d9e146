import type { Logger } from 'winston';
import { BILLING_EVENTS, BILLING_JOBS } from '@tenantry/contracts';
import type { InboxOutcome, RetryPolicy } from '@tenantry/events';
import { PostgresIdempotencyStore } from '@tenantry/http';
import type { PlatformMetrics } from '@tenantry/observability';
import type { ServiceHandle } from '@tenantry/service-runtime';
import { createService } from '@tenantry/service-runtime';
import type { BillingDeps } from './application/billing-deps';
import type { BillingConfig } from './config';
import type { Clock } from './domain/clock';
import { SYSTEM_CLOCK } from './domain/clock';
import type { BillingApi } from './http/billing-api';
import { billingApi } from './http/billing-api';
import { PeriodCloseScheduler } from './jobs/period-close-scheduler';
import { createBillingConsumers } from './messaging/billing-consumers';
import { BILLING_ENTITIES } from './persistence/entities/billing-entities';
import { InvoiceRepository } from './persistence/invoice-repository';
import { BILLING_MIGRATIONS } from './persistence/migrations/billing-migrations';
import { PlanRepository } from './persistence/plan-repository';
import { ScheduleRepository } from './persistence/schedule-repository';
import { SeatRepository } from './persistence/seat-repository';
import { SubscriptionRepository } from './persistence/subscription-repository';
import { UsageRepository } from './persistence/usage-repository';

export interface BillingServiceOptions {
  readonly logger?: Logger;
  /** Where "now" comes from (tests move it). */
  readonly clock?: Clock;
  /** Relay poll interval (tests use a short one). */
  readonly relayPollIntervalMs?: number;
  /** Retries of a refused usage event before the DLQ (tests use few); wins over the config's. */
  readonly usageRetry?: RetryPolicy;
  readonly onUsageOutcome?: (outcome: InboxOutcome) => void;
}

export interface BillingParts {
  readonly deps: BillingDeps;
  readonly api: BillingApi;
  readonly scheduler: PeriodCloseScheduler;
}

export type BillingServiceHandle = ServiceHandle<PlatformMetrics, BillingParts>;

/** The billing service: plans, subscriptions, the usage ledger, invoices and their jobs. */
export function startBillingService(
  config: BillingConfig,
  options: BillingServiceOptions = {},
): Promise<BillingServiceHandle> {
  const usageRetry = options.usageRetry ?? config.usageRetry;
  return createService({
    name: 'billing',
    instanceId: config.instanceId,
    logger: options.logger,
    database: {
      appUrl: config.databaseUrl,
      ownerUrl: config.databaseOwnerUrl,
      poolSize: config.databasePoolSize,
      entities: BILLING_ENTITIES,
      migrations: BILLING_MIGRATIONS,
    },
    kafkaBrokers: config.kafkaBrokers,
    schemaRegistryUrl: config.schemaRegistryUrl,
    produces: [...BILLING_EVENTS, ...BILLING_JOBS],
    relay: { pollIntervalMs: options.relayPollIntervalMs },
    http: { contextKeys: config.contextKeys, port: config.port, host: config.host },
    assemble({ dataSource, outbox, consumers, logger }) {
      const deps: BillingDeps = {
        plans: new PlanRepository(dataSource),
        subscriptions: new SubscriptionRepository(),
        usage: new UsageRepository(),
        seats: new SeatRepository(),
        invoices: new InvoiceRepository(),
        schedule: new ScheduleRepository(),
        // Source `/services/billing`, which BILLING_SOURCE names for the use cases.
        outbox,
        clock: options.clock ?? SYSTEM_CLOCK,
        paymentTermsDays: config.paymentTermsDays,
        closeRetryMs: config.closeRetryMs,
      };
      createBillingConsumers({
        consumers,
        deps,
        groupPrefix: config.consumerGroupPrefix,
        ...(usageRetry ? { usageRetry } : {}),
        ...(options.onUsageOutcome ? { onUsageOutcome: options.onUsageOutcome } : {}),
      });
      const scheduler = new PeriodCloseScheduler({
        dataSource,
        deps,
        logger,
        intervalMs: config.schedulerIntervalMs,
        concurrency: config.schedulerConcurrency,
      });
      const api = billingApi(
        { dataSource, deps },
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
        tasks: config.schedulerEnabled
          ? [
              {
                name: 'period-close scheduler',
                start: () => scheduler.start(),
                stop: () => scheduler.stop(),
              },
            ]
          : [],
        exposes: { deps, api, scheduler },
      };
    },
  });
}
