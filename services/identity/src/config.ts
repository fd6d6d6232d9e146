import { kafkaBrokersFromEnv } from '@tenantry/events';
import { z } from 'zod';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { contextTokenKeysFromEnv, refuseDevelopmentSecret } from '@tenantry/tenancy';
import { parseGracePeriodMs } from './domain/grace-period';

const DEFAULT_APP_URL = 'postgres://identity_app:identity_app@127.0.0.1:5433/identity';
const DEFAULT_OWNER_URL = 'postgres://identity_owner:identity_owner@127.0.0.1:5433/identity';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  // Loopback unless told otherwise: a container sets HOST=0.0.0.0 (see deploy/docker).
  HOST: z.string().min(1).default('127.0.0.1'),
  IDENTITY_DATABASE_URL: z.url().default(DEFAULT_APP_URL),
  IDENTITY_DATABASE_OWNER_URL: z.url().default(DEFAULT_OWNER_URL),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key this service writes (rate-limit counters). */
  IDENTITY_REDIS_KEY_PREFIX: z.string().min(1).default('identity'),
  IDENTITY_ISSUER: z.string().min(1).default('tenantry-identity'),
  /** Encrypts signing keys' private halves at rest (AES-256-GCM, key derived with HKDF). */
  IDENTITY_KEY_ENCRYPTION_SECRET: z
    .string()
    .min(32, 'IDENTITY_KEY_ENCRYPTION_SECRET needs at least 32 characters'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(900),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt(30 * 24 * 3600),
  INVITATION_TTL_SECONDS: positiveInt(7 * 24 * 3600),
  /**
   * How long a new signing key is published in the JWKS before it signs anything, so verifiers
   * that cached the JWKS know it by the time a token signed with it arrives.
   */
  SIGNING_KEY_PUBLISH_LEAD_SECONDS: z.coerce.number().int().min(0).default(300),
  LOGIN_FAILURES_PER_ACCOUNT: positiveInt(10),
  LOGIN_FAILURES_PER_IP: positiveInt(100),
  LOGIN_FAILURE_WINDOW_SECONDS: positiveInt(15 * 60),
  /** express `trust proxy`: which hops may set X-Forwarded-For (the gateway's network). */
  IDENTITY_TRUST_PROXY: z.string().default('loopback, linklocal, uniquelocal'),
  /** Argon2id memory cost in KiB (OWASP: 19 MiB with t=2). Tests may lower it. */
  PASSWORD_HASH_MEMORY_KIB: positiveInt(19_456),
  /** Consumer group names start with this (one prefix per deployment; tests use their own). */
  KAFKA_CONSUMER_GROUP_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,60}$/)
    .default('identity'),
  /**
   * How long a requested tenant deletion waits before the purge starts (an operator may cancel
   * until then): whole seconds or an ISO 8601 duration of days and time. Seven days by default;
   * the local stack and tests use 0 (docs/adr/0016).
   */
  TENANT_DELETION_GRACE_PERIOD: z
    .string()
    .default('P7D')
    .refine((value) => parseGracePeriodMs(value) !== undefined, {
      message: 'seconds (e.g. 3600) or an ISO 8601 duration of days and time (e.g. P7D, PT12H)',
    }),
  /** How often the offboarding scheduler looks for deletions whose grace period ended. */
  TENANT_PURGE_INTERVAL_MS: positiveInt(60_000),
  /** Off only where another process runs the scheduler (it runs on one replica at a time). */
  TENANT_PURGE_SCHEDULER_ENABLED: z.enum(['true', 'false']).default('true'),
});

export type IdentityEnv = z.output<typeof envSchema>;

/** Everything the identity service is built from; tests override fields of it. */
export interface IdentityConfig {
  readonly port: number;
  readonly host: string;
  readonly database: { readonly appUrl: string; readonly ownerUrl: string };
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  /** The gateway's public keys (`CONTEXT_TOKEN_PUBLIC_KEYS`): current, then previous. */
  readonly contextKeys: readonly ContextTokenKey[];
  readonly issuer: string;
  readonly keyEncryptionSecret: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly invitationTtlSeconds: number;
  readonly signingKeyPublishLeadSeconds: number;
  readonly loginLimits: {
    readonly perAccount: number;
    readonly perIp: number;
    readonly windowSeconds: number;
  };
  readonly trustProxy: string;
  readonly passwordHashMemoryKib: number;
  readonly consumerGroupPrefix: string;
  readonly offboarding: {
    readonly gracePeriodMs: number;
    readonly schedulerIntervalMs: number;
    readonly schedulerEnabled: boolean;
  };
}

/** The audience of every access token identity issues (the gateway pins it). */
export const ACCESS_TOKEN_AUDIENCE = 'tenantry-api';

/** Parses and validates the environment once; throws a readable error naming what is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid identity configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  refuseDevelopmentSecret('IDENTITY_KEY_ENCRYPTION_SECRET', e.IDENTITY_KEY_ENCRYPTION_SECRET, env);
  return {
    port: e.PORT,
    host: e.HOST,
    database: { appUrl: e.IDENTITY_DATABASE_URL, ownerUrl: e.IDENTITY_DATABASE_OWNER_URL },
    kafkaBrokers: kafkaBrokersFromEnv({ KAFKA_BROKERS: e.KAFKA_BROKERS }),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.IDENTITY_REDIS_KEY_PREFIX,
    contextKeys: contextTokenKeysFromEnv(env),
    issuer: e.IDENTITY_ISSUER,
    keyEncryptionSecret: e.IDENTITY_KEY_ENCRYPTION_SECRET,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    invitationTtlSeconds: e.INVITATION_TTL_SECONDS,
    signingKeyPublishLeadSeconds: e.SIGNING_KEY_PUBLISH_LEAD_SECONDS,
    loginLimits: {
      perAccount: e.LOGIN_FAILURES_PER_ACCOUNT,
      perIp: e.LOGIN_FAILURES_PER_IP,
      windowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    trustProxy: e.IDENTITY_TRUST_PROXY,
    passwordHashMemoryKib: e.PASSWORD_HASH_MEMORY_KIB,
    consumerGroupPrefix: e.KAFKA_CONSUMER_GROUP_PREFIX,
    offboarding: {
      gracePeriodMs: parseGracePeriodMs(e.TENANT_DELETION_GRACE_PERIOD) ?? 0,
      schedulerIntervalMs: e.TENANT_PURGE_INTERVAL_MS,
      schedulerEnabled: e.TENANT_PURGE_SCHEDULER_ENABLED === 'true',
    },
  };
}
