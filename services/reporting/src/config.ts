import { DEFAULT_RETRY_POLICY, kafkaBrokersFromEnv } from '@tenantry/events';
import type { RetryPolicy } from '@tenantry/events';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { contextTokenKeysFromEnv, refuseDevelopmentSecret } from '@tenantry/tenancy';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  // Loopback unless told otherwise: a container sets HOST=0.0.0.0 (see deploy/docker).
  HOST: z.string().min(1).default('127.0.0.1'),
  REPORTING_DATABASE_URL: z
    .url()
    .default('postgres://reporting_app:reporting_app@127.0.0.1:5433/reporting'),
  REPORTING_DATABASE_OWNER_URL: z
    .url()
    .default('postgres://reporting_owner:reporting_owner@127.0.0.1:5433/reporting'),
  DATABASE_POOL_SIZE: positiveInt(10),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Consumer group names start with this (one prefix per deployment; tests use their own). */
  KAFKA_CONSUMER_GROUP_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,60}$/)
    .default('reporting'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  /**
   * Attempts at an event the read models refuse (its payload names another tenant than its
   * envelope) before it goes to the DLQ, and the backoff between them.
   */
  REPORTING_RETRY_ATTEMPTS: positiveInt(DEFAULT_RETRY_POLICY.attempts),
  REPORTING_RETRY_INITIAL_DELAY_MS: positiveInt(DEFAULT_RETRY_POLICY.initialDelayMs),
  REPORTING_RETRY_MAX_DELAY_MS: positiveInt(DEFAULT_RETRY_POLICY.maxDelayMs),
  /** Signs export download links (HMAC-SHA256); every replica needs the same one. */
  REPORTING_EXPORT_SIGNING_SECRET: z
    .string()
    .min(32, 'REPORTING_EXPORT_SIGNING_SECRET needs at least 32 characters'),
  /** How long a download link works. */
  REPORTING_EXPORT_LINK_TTL_SECONDS: positiveInt(300),
  /** How long a finished export's file is kept; then it is deleted and the export `expired`. */
  REPORTING_EXPORT_RETENTION_SECONDS: positiveInt(7 * 24 * 3600),
  /** An export with more rows fails instead of filling the disk. */
  REPORTING_EXPORT_MAX_ROWS: positiveInt(1_000_000),
  /**
   * Where export files are written (`<dir>/<tenant>/<export>.<format>`); every replica must see
   * the same directory (a shared volume), or see docs/adr/0015 for object storage.
   */
  REPORTING_EXPORT_DIR: z.string().min(1).default(join(tmpdir(), 'tenantry-reporting-exports')),
  /** How often one replica looks for expired export files to delete. */
  REPORTING_EXPORT_SWEEP_INTERVAL_MS: positiveInt(60_000),
});

export interface ReportingConfig {
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
  /** Retries of a refused event before the DLQ; absent: the inbox's default policy. */
  readonly retry?: RetryPolicy;
  readonly exports: ExportSettings;
}

export interface ExportSettings {
  readonly signingSecret: string;
  readonly linkTtlSeconds: number;
  readonly retentionSeconds: number;
  readonly maxRows: number;
  /** The export files' directory (absolute). */
  readonly directory: string;
  /** Interval of the expired-file sweeper (one replica at a time). */
  readonly sweepIntervalMs: number;
}

/** The service's environment, parsed and validated once at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ReportingConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid reporting configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  refuseDevelopmentSecret(
    'REPORTING_EXPORT_SIGNING_SECRET',
    e.REPORTING_EXPORT_SIGNING_SECRET,
    env,
  );
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.REPORTING_DATABASE_URL,
    databaseOwnerUrl: e.REPORTING_DATABASE_OWNER_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    kafkaBrokers: kafkaBrokersFromEnv({ KAFKA_BROKERS: e.KAFKA_BROKERS }),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    contextKeys: contextTokenKeysFromEnv(env),
    consumerGroupPrefix: e.KAFKA_CONSUMER_GROUP_PREFIX,
    instanceId:
      e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(-100),
    retry: {
      attempts: e.REPORTING_RETRY_ATTEMPTS,
      initialDelayMs: e.REPORTING_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: Math.max(e.REPORTING_RETRY_MAX_DELAY_MS, e.REPORTING_RETRY_INITIAL_DELAY_MS),
    },
    exports: {
      signingSecret: e.REPORTING_EXPORT_SIGNING_SECRET,
      linkTtlSeconds: e.REPORTING_EXPORT_LINK_TTL_SECONDS,
      retentionSeconds: e.REPORTING_EXPORT_RETENTION_SECONDS,
      maxRows: e.REPORTING_EXPORT_MAX_ROWS,
      directory: resolve(e.REPORTING_EXPORT_DIR),
      sweepIntervalMs: e.REPORTING_EXPORT_SWEEP_INTERVAL_MS,
    },
  };
}
