import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { PLATFORM_TOPICS } from '@tenantry/contracts';
import type { ServiceDatabaseConfig } from '@tenantry/db';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { EventDefinition, TopicDeclaration } from '@tenantry/events';
import {
  EventCodec,
  Outbox,
  OutboxRelay,
  createKafkaClient,
  kafkaReadinessCheck,
  provisionTopics,
} from '@tenantry/events';
import type { CreateHttpAppOptions, HttpServerHandle, PublicRoute } from '@tenantry/http';
import { createHttpApp, createMetricsApp, startHttpServer } from '@tenantry/http';
import type { PlatformMetrics } from '@tenantry/observability';
import { createLogger, createMetrics } from '@tenantry/observability';
import { newInstanceId } from './instance-id';
import { ServiceConsumers } from './service-consumers';
import { ShutdownSteps } from './shutdown-steps';

type Kafka = ReturnType<typeof createKafkaClient>;
type ReadinessCheck = NonNullable<CreateHttpAppOptions['readinessChecks']>[string];

/** Something that runs beside the service (a poller, a scheduler, a flusher). */
export interface BackgroundTask {
  readonly name: string;
  /** Awaited before the service listens; a failure fails the start. */
  start(): Promise<void> | void;
  /** Runs after the HTTP server closed and before the consumers and the relay stop. */
  stop(): Promise<void> | void;
}

/** What every service is given to assemble itself from. */
export interface ServiceParts<M extends PlatformMetrics = PlatformMetrics> {
  readonly name: string;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: M;
  readonly dataSource: DataSource;
  readonly kafka: Kafka;
  readonly codec: EventCodec;
  /** Writes events in the caller's tenant transaction, with source `/services/<name>`. */
  readonly outbox: Outbox;
  /** The only way to make a consumer: the runtime starts, prunes and stops it. */
  readonly consumers: ServiceConsumers;
  /** Registers something to release when the service stops (after the pool is still open). */
  onStop(name: string, release: () => unknown): void;
}

export interface ServiceHttp {
  readonly configure: (app: Express) => void;
  readonly publicRoutes?: readonly PublicRoute[];
  /** Added to the runtime's own checks (database, and Kafka unless turned off). */
  readonly readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
}

/** What a service's assembly returns: its HTTP surface, its tasks, and what it exposes. */
export interface ServiceAssembly<E extends object> {
  readonly http: ServiceHttp;
  /** Started in order after the consumers, stopped in reverse before them. */
  readonly tasks?: readonly BackgroundTask[];
  /** Exposed on the handle (tests and main reach the service's parts through it). */
  readonly exposes: E;
}

export interface CreateServiceOptions<M extends PlatformMetrics, E extends object> {
  /** The service's name: logs, metrics, Kafka client id, event source, token audience. */
  readonly name: string;
  readonly instanceId?: string;
  readonly logger?: Logger;
  readonly createMetrics?: (name: string) => M;
  readonly database: {
    readonly appUrl: string;
    readonly ownerUrl: string;
    readonly poolSize?: number;
    readonly entities: ServiceDatabaseConfig['entities'];
    readonly migrations: ServiceDatabaseConfig['migrations'];
  };
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  /** Provisioned at start (only what is missing is created); default: every platform topic. */
  readonly topics?: readonly TopicDeclaration[];
  /** The events this service produces, registered (and checked for compatibility) at start. */
  readonly produces: readonly EventDefinition<unknown>[];
  readonly relay?: { readonly pollIntervalMs?: number };
  readonly http: {
    /** `false` only for the gateway, which issues context tokens instead of verifying them. */
    readonly contextKeys: CreateHttpAppOptions['contextKeys'];
    readonly port: number;
    readonly host?: string;
    readonly bodyLimit?: CreateHttpAppOptions['bodyLimit'];
    /** Before every other middleware (the gateway's edge server span). */
    readonly first?: CreateHttpAppOptions['first'];
    /** Serve `/metrics` on this port and not on `port` (what clients or the gateway reach). */
    readonly metricsPort?: number;
    /**
     * Record request rate and latency in the HTTP app (default true). The gateway records its
     * own, by proxied route, and turns this off.
     */
    readonly requestMetrics?: boolean;
    /**
     * Default false: readiness does not depend on Kafka. Writes commit their events to the
     * outbox and are published when the broker is back, so a Kafka outage must not take every
     * replica out of its load balancer (a Kafka outage would become an API outage). Consumers
     * pause on their own; `consumer_lag`, `inbox_paused_partitions` and `outbox_oldest_age_seconds`
     * say so. True makes `/readyz` fail while Kafka cannot be reached.
     */
    readonly kafkaReadiness?: boolean;
    /** Default true; tests that call the app in-process may skip binding a port. */
    readonly listen?: boolean;
  };
  /** Inbox retention bounds of the durable consumers (see ServiceConsumers). */
  readonly inbox?: { readonly topicRetentionMs?: number; readonly retentionMs?: number };
  readonly assemble: (parts: ServiceParts<M>) => Promise<ServiceAssembly<E>> | ServiceAssembly<E>;
}

export interface RuntimeHandle<M extends PlatformMetrics = PlatformMetrics> {
  readonly name: string;
  readonly instanceId: string;
  readonly app: Express;
  /** The bound client port (useful with port 0), undefined when not listening. */
  readonly port: number | undefined;
  readonly metricsPort: number | undefined;
  /** `GET /metrics` alone, served on `metricsPort` when one is configured. */
  readonly metricsApp: Express;
  readonly logger: Logger;
  readonly metrics: M;
  readonly dataSource: DataSource;
  readonly relay: OutboxRelay;
  readonly consumers: ServiceConsumers;
  /** Stops HTTP, tasks, consumers, relay, then the pool, in that order. Safe to call twice. */
  stop(): Promise<void>;
}

export type ServiceHandle<M extends PlatformMetrics, E extends object> = RuntimeHandle<M> & E;

/**
 * Builds and starts one service the platform's way: migrations (as the owner, under an advisory
 * lock), the application pool, topics, schemas, the outbox relay, the service's own parts, its
 * consumers and tasks, then HTTP last so nothing is served before the service can answer. A
 * failure part-way releases what was acquired.
 */
export async function createService<M extends PlatformMetrics, E extends object>(
  options: CreateServiceOptions<M, E>,
): Promise<ServiceHandle<M, E>> {
  const { name } = options;
  const logger = options.logger ?? createLogger(name);
  const instanceId = options.instanceId ?? newInstanceId();
  const metrics = (options.createMetrics ?? createMetrics)(name) as M;
  const steps = new ShutdownSteps(logger);

  try {
    const database: ServiceDatabaseConfig = {
      appUrl: options.database.appUrl,
      ownerUrl: options.database.ownerUrl,
      poolSize: options.database.poolSize,
      entities: options.database.entities,
      migrations: options.database.migrations,
      applicationName: name,
    };
    const ran = await migrateServiceDatabase(database);
    if (ran.length > 0) logger.info('migrations applied', { migrations: ran });
    const dataSource = await openServiceDataSource(database);
    steps.push('database pool', () => dataSource.destroy());

    const kafka = createKafkaClient({
      clientId: `${name}-${instanceId}`,
      brokers: options.kafkaBrokers,
      logger,
    });
    await provisionTopics(kafka, options.topics ?? PLATFORM_TOPICS);
    const codec = new EventCodec(options.schemaRegistryUrl);
    // Only what this service produces is registered; what it consumes is decoded with the
    // producer's definitions as reader schemas.
    if (options.produces.length > 0) await codec.register(options.produces);

    const relay = new OutboxRelay({
      dataSource,
      kafka,
      logger,
      metrics,
      pollIntervalMs: options.relay?.pollIntervalMs ?? 1000,
    });
    await relay.start();
    steps.push('outbox relay', () => relay.stop());

    const consumers = new ServiceConsumers({
      kafka,
      dataSource,
      codec,
      logger,
      metrics,
      instanceId,
      topicRetentionMs: options.inbox?.topicRetentionMs,
      inboxRetentionMs: options.inbox?.retentionMs,
    });
    const parts: ServiceParts<M> = {
      name,
      instanceId,
      logger,
      metrics,
      dataSource,
      kafka,
      codec,
      outbox: new Outbox(codec, `/services/${name}`),
      consumers,
      onStop: (step, release) => steps.push(step, release),
    };
    const assembly = await options.assemble(parts);

    await consumers.startAll();
    steps.push('consumers', () => consumers.stopAll());
    for (const task of assembly.tasks ?? []) {
      await task.start();
      steps.push(task.name, () => task.stop());
    }

    const http = options.http;
    const separateMetrics = http.metricsPort !== undefined;
    const recordRequests = http.requestMetrics ?? true;
    const app = createHttpApp({
      serviceName: name,
      logger,
      contextKeys: http.contextKeys,
      bodyLimit: http.bodyLimit,
      ...(http.first ? { first: http.first } : {}),
      publicRoutes: assembly.http.publicRoutes,
      readinessChecks: {
        database: () => dataSource.query('SELECT 1'),
        ...((http.kafkaReadiness ?? false) ? { kafka: kafkaReadinessCheck(kafka) } : {}),
        ...assembly.http.readinessChecks,
      },
      ...(recordRequests ? { metrics, serveMetrics: !separateMetrics } : {}),
      configure: assembly.http.configure,
    });
    const metricsApp = createMetricsApp(metrics.registry);

    let server: HttpServerHandle | undefined;
    let metricsServer: HttpServerHandle | undefined;
    if (http.listen ?? true) {
      if (separateMetrics) {
        metricsServer = await startHttpServer(metricsApp, {
          port: http.metricsPort!,
          host: http.host,
          logger,
        });
        steps.push('metrics server', () => metricsServer?.close());
      }
      server = await startHttpServer(app, { port: http.port, host: http.host, logger });
      steps.push('http server', () => server?.close());
      logger.info(`${name} started`, { port: server.port, instance: instanceId });
    }

    const runtime: RuntimeHandle<M> = {
      name,
      instanceId,
      app,
      port: server?.port,
      metricsPort: metricsServer?.port,
      metricsApp,
      logger,
      metrics,
      dataSource,
      relay,
      consumers,
      stop: async () => {
        await steps.runAll();
        logger.info(`${name} stopped`);
      },
    };
    return { ...assembly.exposes, ...runtime };
  } catch (error) {
    await steps.runAll();
    throw error;
  }
}
