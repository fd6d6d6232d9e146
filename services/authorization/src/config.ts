import { kafkaBrokersFromEnv } from '@tenantry/events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { contextTokenKeysFromEnv } from '@tenantry/tenancy';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  // Loopback unless told otherwise: a container sets HOST=0.0.0.0 (see deploy/docker).
  HOST: z.string().min(1).default('127.0.0.1'),
  AUTHORIZATION_DATABASE_URL: z
    .url()
    .default('postgres://authorization_app:authorization_app@127.0.0.1:5433/authorization'),
  AUTHORIZATION_DATABASE_OWNER_URL: z
    .url()
    .default('postgres://authorization_owner:authorization_owner@127.0.0.1:5433/authorization'),
  DATABASE_POOL_SIZE: positiveInt(10),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  /** Tenants whose policies stay loaded; the least recently used beyond this are dropped. */
  AUTHZ_ENFORCER_CACHE_SIZE: positiveInt(2000),
  /** A loaded tenant is reloaded at the latest after this long, whatever events said. */
  AUTHZ_ENFORCER_TTL_MS: positiveInt(5 * 60_000),
  /** Backstop for a missed policy-changed event: how often policy versions are polled. */
  AUTHZ_POLICY_POLL_MS: positiveInt(2000),
  /** Consumer group names start with this (one prefix per deployment; tests use their own). */
  KAFKA_CONSUMER_GROUP_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,60}$/)
    .default('authorization'),
  /** Names this replica's cache-invalidation consumer; unique per process by default. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
});

export interface AuthorizationConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly databaseOwnerUrl: string;
  readonly databasePoolSize: number;
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  /** The gateway's public keys (`CONTEXT_TOKEN_PUBLIC_KEYS`): current, then previous. */
  readonly contextKeys: readonly ContextTokenKey[];
  readonly enforcerCacheSize: number;
  readonly enforcerTtlMs: number;
  readonly policyPollMs: number;
  readonly instanceId: string;
  readonly consumerGroupPrefix: string;
}

/** The service's environment, parsed and validated once at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AuthorizationConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid authorization configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.AUTHORIZATION_DATABASE_URL,
    databaseOwnerUrl: e.AUTHORIZATION_DATABASE_OWNER_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    kafkaBrokers: kafkaBrokersFromEnv({ KAFKA_BROKERS: e.KAFKA_BROKERS }),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    contextKeys: contextTokenKeysFromEnv(env),
    enforcerCacheSize: e.AUTHZ_ENFORCER_CACHE_SIZE,
    enforcerTtlMs: e.AUTHZ_ENFORCER_TTL_MS,
    policyPollMs: e.AUTHZ_POLICY_POLL_MS,
    instanceId:
      e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(-100),
    consumerGroupPrefix: e.KAFKA_CONSUMER_GROUP_PREFIX,
  };
}
