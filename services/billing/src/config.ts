import { DEFAULT_RETRY_POLICY, kafkaBrokersFromEnv } from '@tenantry/events';
import type { RetryPolicy } from '@tenantry/events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { contextTokenKeysFromEnv } from '@tenantry/tenancy';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Connections of the application pool. The usage consumer alone may hold 24 at once (its 12
 * partitions × the inbox's 2 tenant groups in flight each); the identity and job consumers, the
 * relay and HTTP requests need the rest. With fewer, the usage partitions queue for connections
 * instead of running side by side (ADR 0017).
 */
export const DEFAULT_DATABASE_POOL_SIZE = 32;

/**
 * Due tenants a scheduler pass handles at once, each in its own transaction: one pool connection
 * each for a few milliseconds, well inside what the consumers leave of the pool.
 */
export const DEFAULT_SCHEDULER_CONCURRENCY = 4;

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
  // Loopback unless told otherwise: a container sets HOST=0.0.0.0 (see deploy/docker).
  HOST: z.string().min(1).default('127.0.0.1'),
  BILLING_DATABASE_URL: z
    .url()
    .default('postgres://billing_app:billing_app@127.0.0.1:5433/billing'),
  BILLING_DATABASE_OWNER_URL: z
    .url()
    .default('postgres://billing_owner:billing_owner@127.0.0.1:5433/billing'),
  DATABASE_POOL_SIZE: positiveInt(DEFAULT_DATABASE_POOL_SIZE),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Consumer group names start with this (one prefix per deployment; tests use their own). */
  KAFKA_CONSUMER_GROUP_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,60}$/)
    .default('billing'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  /** How often the scheduler looks for ended periods and overdue invoices. */
  BILLING_SCHEDULER_INTERVAL_MS: positiveInt(30_000),
  /** A period-close job not done after this long is enqueued again (attempt + 1). */
  BILLING_CLOSE_RETRY_MS: positiveInt(15 * 60_000),
  /** Days from issue to due date. */
  BILLING_PAYMENT_TERMS_DAYS: positiveInt(14),
  /** `false` turns the scheduler off on this replica (the job consumer keeps running). */
  BILLING_SCHEDULER_ENABLED: z.enum(['true', 'false']).default('true'),
  /** Due tenants the scheduler handles at once (keep it well below DATABASE_POOL_SIZE - 24). */
  BILLING_SCHEDULER_CONCURRENCY: positiveInt(DEFAULT_SCHEDULER_CONCURRENCY),
  /**
   * Attempts at a refused usage event (unknown tenant, which may be one whose creation it
   * overtook) before it goes to the DLQ, and the backoff between them. Each attempt holds its
   * partition, so a long history of refused events (a fresh consumer group on a busy topic) drains
   * at about one event per second per partition with the defaults.
   */
  BILLING_USAGE_RETRY_ATTEMPTS: positiveInt(DEFAULT_RETRY_POLICY.attempts),
  BILLING_USAGE_RETRY_INITIAL_DELAY_MS: positiveInt(DEFAULT_RETRY_POLICY.initialDelayMs),
  BILLING_USAGE_RETRY_MAX_DELAY_MS: positiveInt(DEFAULT_RETRY_POLICY.maxDelayMs),
});

export interface BillingConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly databaseOwnerUrl: string;
  readonly databasePoolSize: number;
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly contextKeys: readonly ContextTokenKey[];
  readonly consumerGroupPrefix: string;
  readonly instanceId: string;
  readonly schedulerIntervalMs: number;
  readonly closeRetryMs: number;
  readonly paymentTermsDays: number;
  readonly schedulerEnabled: boolean;
  /** Due tenants a scheduler pass handles at once; absent: the scheduler's default. */
  readonly schedulerConcurrency?: number;
  /** Retries of a refused usage event before the DLQ; absent: the inbox's default policy. */
  readonly usageRetry?: RetryPolicy;
}

/** The service's environment, parsed and validated once at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BillingConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid billing configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.BILLING_DATABASE_URL,
    databaseOwnerUrl: e.BILLING_DATABASE_OWNER_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    kafkaBrokers: kafkaBrokersFromEnv({ KAFKA_BROKERS: e.KAFKA_BROKERS }),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    contextKeys: contextTokenKeysFromEnv(env),
    consumerGroupPrefix: e.KAFKA_CONSUMER_GROUP_PREFIX,
    instanceId:
      e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(-100),
    schedulerIntervalMs: e.BILLING_SCHEDULER_INTERVAL_MS,
    closeRetryMs: e.BILLING_CLOSE_RETRY_MS,
    paymentTermsDays: e.BILLING_PAYMENT_TERMS_DAYS,
    schedulerEnabled: e.BILLING_SCHEDULER_ENABLED === 'true',
    schedulerConcurrency: e.BILLING_SCHEDULER_CONCURRENCY,
    usageRetry: {
      attempts: e.BILLING_USAGE_RETRY_ATTEMPTS,
      initialDelayMs: e.BILLING_USAGE_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: Math.max(
        e.BILLING_USAGE_RETRY_MAX_DELAY_MS,
        e.BILLING_USAGE_RETRY_INITIAL_DELAY_MS,
      ),
    },
  };
}
