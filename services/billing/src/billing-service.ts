import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { BILLING_EVENTS, BILLING_JOBS, PLATFORM_TOPICS } from '@tenantry/contracts';
import type { ServiceDatabaseConfig } from '@tenantry/db';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { InboxOutcome, RetryPolicy } from '@tenantry/events';
import {
  EventCodec,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  kafkaReadinessCheck,
  provisionTopics,
} from '@tenantry/events';
import { PostgresIdempotencyStore, createHttpApp, startHttpServer } from '@tenantry/http';
import { createLogger, createMetrics } from '@tenantry/observability';
import type { BillingDeps } from './application/billing-deps';
import { BILLING_SOURCE } from './application/billing-deps';
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
  /** Retries of a refused usage event before the DLQ (tests use few). */
  readonly usageRetry?: RetryPolicy;
  readonly onUsageOutcome?: (outcome: InboxOutcome) => void;
}

export interface BillingServiceHandle {
  readonly app: Express;
  /** The bound HTTP port (useful with PORT=0). */
  readonly port: number;
  readonly logger: Logger;
  readonly dataSource: DataSource;
  readonly deps: BillingDeps;
  readonly api: BillingApi;
  readonly scheduler: PeriodCloseScheduler;
  /** Stops taking requests, then scheduler, consumers, relay and pool; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the service from its configuration: migrations (as the owner), the pool
 * (as the app role), topics, schemas, relay, consumers, the scheduler, then HTTP last.
 */
export async function startBillingService(
  config: BillingConfig,
  options: BillingServiceOptions = {},
): Promise<BillingServiceHandle> {
  const logger = options.logger ?? createLogger('billing');
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
      entities: BILLING_ENTITIES,
      migrations: BILLING_MIGRATIONS,
      poolSize: config.databasePoolSize,
      applicationName: 'billing',
    };
    const ran = await migrateServiceDatabase(database);
    if (ran.length > 0) logger.info('migrations ran', { migrations: ran });
    const dataSource = await openServiceDataSource(database);
    stops.push(() => dataSource.destroy());

    const kafka = createKafkaClient({
      clientId: `billing-${config.instanceId}`,
      brokers: config.kafkaBrokers,
      logger,
    });
    await provisionTopics(kafka, PLATFORM_TOPICS);
    const codec = new EventCodec(config.schemaRegistryUrl);
    // Identity's and the gateway's events are decoded with their definitions (reader schemas);
    // only what this service produces is registered here.
    await codec.register([...BILLING_EVENTS, ...BILLING_JOBS]);

    const metrics = createMetrics('billing');
    const deps: BillingDeps = {
      plans: new PlanRepository(dataSource),
      subscriptions: new SubscriptionRepository(),
      usage: new UsageRepository(),
      seats: new SeatRepository(),
      invoices: new InvoiceRepository(),
      schedule: new ScheduleRepository(),
      outbox: new Outbox(codec, BILLING_SOURCE),
      clock: options.clock ?? SYSTEM_CLOCK,
      paymentTermsDays: config.paymentTermsDays,
      closeRetryMs: config.closeRetryMs,
    };

    const relay = new OutboxRelay({
      dataSource,
      kafka,
      logger,
      metrics,
      pollIntervalMs: options.relayPollIntervalMs ?? 1000,
    });
    await relay.start();
    stops.push(() => relay.stop());

    const consumers = createBillingConsumers({
      kafka,
      dataSource,
      codec,
      logger,
      metrics,
      deps,
      groupPrefix: config.consumerGroupPrefix,
      ...(options.usageRetry ? { usageRetry: options.usageRetry } : {}),
      ...(options.onUsageOutcome ? { onUsageOutcome: options.onUsageOutcome } : {}),
    });
    for (const consumer of [consumers.identity, consumers.usage, consumers.jobs]) {
      stops.push(() => consumer.stop());
    }
    await Promise.all([
      consumers.identity.start(),
      consumers.usage.start(),
      consumers.jobs.start(),
    ]);

    const scheduler = new PeriodCloseScheduler({
      dataSource,
      deps,
      logger,
      intervalMs: config.schedulerIntervalMs,
    });
    if (config.schedulerEnabled) scheduler.start();
    stops.push(() => scheduler.stop());

    const api = billingApi(
      { dataSource, deps },
      { idempotencyStore: new PostgresIdempotencyStore(dataSource), logger },
    );
    const app = createHttpApp({
      serviceName: 'billing',
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
        api.metaRoutes.mount(express);
      },
    });
    const server = await startHttpServer(app, { port: config.port, host: config.host, logger });
    stops.push(() => server.close());
    logger.info('billing started', { port: server.port, instance: config.instanceId });

    let stopped: Promise<void> | undefined;
    return {
      app,
      port: server.port,
      logger,
      dataSource,
      deps,
      api,
      scheduler,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
