import { kafkaBrokersFromEnv } from '@tenantry/events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { contextTokenSigningKeyFromEnv } from '@tenantry/tenancy';
import type { ContextTokenSigningKey } from '@tenantry/tenancy';
import { DEFAULT_ROUTE_TABLE, parseRouteTable } from './proxy/route-table';
import type { RouteTable } from './proxy/route-table';

/** Per-tenant token bucket: `ratePerSecond` tokens flow in, at most `burst` are held. */
export interface RateLimitPolicy {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** `GET /metrics` is served here only, never on {@link port}, which clients reach. */
  readonly metricsPort: number;
  readonly databaseUrl: string;
  readonly databaseOwnerUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
  /**
   * The gateway's private key (`CONTEXT_TOKEN_PRIVATE_KEY`): signs the context token stamped on
   * every forwarded request. Only the gateway has it; services hold its public key.
   */
  readonly contextTokenKey: ContextTokenSigningKey;
  readonly identityIssuer: string;
  readonly accessTokenAudience: string;
  /** Base URL of each service that owns routes, by service name (`identity` -> IDENTITY_URL). */
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly routes: RouteTable;
  readonly rateLimit: RateLimitPolicy;
  /** Per client address, for unauthenticated calls. */
  readonly publicRateLimit: RateLimitPolicy;
  /** Express `trust proxy`: who may set X-Forwarded-For. */
  readonly trustProxy: string;
  /** Failed authentications (401) per client address before credentials are refused with 429. */
  readonly authFailureLimit: RateLimitPolicy;
  /** Tenants with their own bucket size (contracts, noisy integrations). */
  readonly rateLimitOverrides: Readonly<Record<string, RateLimitPolicy>>;
  readonly bodyLimitBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly identityTimeoutMs: number;
  /** How long a fetched JWKS is trusted before it is fetched again (bounds a deleted key's life). */
  readonly jwksCacheMaxAgeMs: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s (protects identity). */
  readonly jwksCooldownMs: number;
  readonly apiKeyCacheMs: number;
  readonly tenantStatusCacheMs: number;
  readonly clockToleranceSeconds: number;
  readonly usageFlushIntervalMs: number;
  readonly usageFlushMaxRows: number;
  /** Calls held in memory while the database is unreachable; older ones are dropped beyond it. */
  readonly usageMaxBufferedRows: number;
  readonly openApiRefreshMs: number;
  /**
   * Coarse route permissions checked with the authorization service. `false` only where another
   * step stands in (tests of the other steps); never in a deployment.
   */
  readonly authzEnforced: boolean;
  /** How long a permission decision is reused (a missed policy event is stale at most this). */
  readonly authzDecisionTtlMs: number;
  readonly authzDecisionCacheSize: number;
  /** Longest wait for a decision; beyond it the request is refused with 503. */
  readonly authzTimeoutMs: number;
  /** Names this replica's policy-cache consumer (`gateway.policy-cache.<id>`); unique per process. */
  readonly instanceId: string;
}

const positiveInt = z.coerce.number().int().positive();
const url = z.url();

const policySchema = z.strictObject({
  ratePerSecond: z.number().positive(),
  burst: z.number().int().positive(),
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // Loopback unless told otherwise: a container sets HOST=0.0.0.0 (see deploy/docker).
  HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  GATEWAY_DATABASE_URL: url.default('postgres://gateway_app:gateway_app@127.0.0.1:5433/gateway'),
  GATEWAY_DATABASE_OWNER_URL: url.default(
    'postgres://gateway_owner:gateway_owner@127.0.0.1:5433/gateway',
  ),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  SCHEMA_REGISTRY_URL: url.default('http://127.0.0.1:8081/apis/ccompat/v7'),
  REDIS_URL: url.default('redis://127.0.0.1:6379'),
  IDENTITY_URL: url.default('http://127.0.0.1:4001'),
  AUTHORIZATION_URL: url.default('http://127.0.0.1:4002'),
  BILLING_URL: url.optional(),
  REPORTING_URL: url.optional(),
  IDENTITY_ISSUER: z.string().min(1).default('tenantry-identity'),
  ACCESS_TOKEN_AUDIENCE: z.string().min(1).default('tenantry-api'),
  /** JSON `{ "/v1/prefix": "service" }`, replacing the built-in table. */
  GATEWAY_ROUTES: z.string().optional(),
  RATE_LIMIT_RPS: z.coerce.number().positive().default(50),
  RATE_LIMIT_BURST: positiveInt.default(100),
  // Unauthenticated calls (sign-up, login, refresh, accept) per client address: brute force and
  // sign-up floods have no tenant to charge.
  PUBLIC_RATE_LIMIT_RPS: z.coerce.number().positive().default(10),
  PUBLIC_RATE_LIMIT_BURST: positiveInt.default(50),
  // Which proxies in front of the gateway may tell it the client's address (X-Forwarded-For).
  GATEWAY_TRUST_PROXY: z.string().default('loopback, linklocal, uniquelocal'),
  // Failed authentications per client address: a flood of random keys or tokens stops here, not
  // at identity's API-key lookup.
  GATEWAY_AUTH_FAILURE_RPS: z.coerce.number().positive().default(1),
  GATEWAY_AUTH_FAILURE_BURST: positiveInt.default(50),
  /** JSON `{ "<tenantId>": { "ratePerSecond": 200, "burst": 400 } }`. */
  RATE_LIMIT_TENANT_OVERRIDES: z.string().optional(),
  BODY_LIMIT_BYTES: positiveInt.default(100 * 1024),
  UPSTREAM_TIMEOUT_MS: positiveInt.default(10_000),
  IDENTITY_TIMEOUT_MS: positiveInt.default(2_000),
  JWKS_CACHE_MAX_AGE_MS: positiveInt.default(60_000),
  JWKS_COOLDOWN_MS: positiveInt.default(5_000),
  API_KEY_CACHE_MS: positiveInt.default(5_000),
  TENANT_STATUS_CACHE_MS: positiveInt.default(5_000),
  CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  USAGE_FLUSH_INTERVAL_MS: positiveInt.default(200),
  USAGE_FLUSH_MAX_ROWS: positiveInt.default(200),
  USAGE_MAX_BUFFERED_ROWS: positiveInt.default(50_000),
  OPENAPI_REFRESH_MS: positiveInt.default(60_000),
  AUTHZ_ENFORCEMENT: z.enum(['on', 'off']).default('on'),
  AUTHZ_DECISION_TTL_MS: positiveInt.default(10_000),
  AUTHZ_DECISION_CACHE_SIZE: positiveInt.default(100_000),
  AUTHZ_TIMEOUT_MS: positiveInt.default(1_000),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
});

function parseJson<T>(name: string, raw: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${name}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The gateway's environment, parsed and validated once at start; a bad value stops the start. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid gateway configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  const serviceUrls: Record<string, string> = {
    identity: e.IDENTITY_URL,
    authorization: e.AUTHORIZATION_URL,
  };
  if (e.BILLING_URL) serviceUrls.billing = e.BILLING_URL;
  if (e.REPORTING_URL) serviceUrls.reporting = e.REPORTING_URL;
  const routes =
    parseJson(
      'GATEWAY_ROUTES',
      e.GATEWAY_ROUTES,
      z.record(z.string(), z.string().min(1)).transform(parseRouteTable),
    ) ?? DEFAULT_ROUTE_TABLE;
  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    databaseUrl: e.GATEWAY_DATABASE_URL,
    databaseOwnerUrl: e.GATEWAY_DATABASE_OWNER_URL,
    kafkaBrokers: kafkaBrokersFromEnv({ KAFKA_BROKERS: e.KAFKA_BROKERS }),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    contextTokenKey: contextTokenSigningKeyFromEnv(env),
    identityIssuer: e.IDENTITY_ISSUER,
    accessTokenAudience: e.ACCESS_TOKEN_AUDIENCE,
    serviceUrls,
    routes,
    rateLimit: { ratePerSecond: e.RATE_LIMIT_RPS, burst: e.RATE_LIMIT_BURST },
    publicRateLimit: { ratePerSecond: e.PUBLIC_RATE_LIMIT_RPS, burst: e.PUBLIC_RATE_LIMIT_BURST },
    trustProxy: e.GATEWAY_TRUST_PROXY,
    authFailureLimit: {
      ratePerSecond: e.GATEWAY_AUTH_FAILURE_RPS,
      burst: e.GATEWAY_AUTH_FAILURE_BURST,
    },
    rateLimitOverrides:
      parseJson(
        'RATE_LIMIT_TENANT_OVERRIDES',
        e.RATE_LIMIT_TENANT_OVERRIDES,
        z.record(z.string(), policySchema),
      ) ?? {},
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    identityTimeoutMs: e.IDENTITY_TIMEOUT_MS,
    jwksCacheMaxAgeMs: e.JWKS_CACHE_MAX_AGE_MS,
    jwksCooldownMs: e.JWKS_COOLDOWN_MS,
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    tenantStatusCacheMs: e.TENANT_STATUS_CACHE_MS,
    clockToleranceSeconds: e.CLOCK_TOLERANCE_SECONDS,
    usageFlushIntervalMs: e.USAGE_FLUSH_INTERVAL_MS,
    usageFlushMaxRows: e.USAGE_FLUSH_MAX_ROWS,
    usageMaxBufferedRows: e.USAGE_MAX_BUFFERED_ROWS,
    openApiRefreshMs: e.OPENAPI_REFRESH_MS,
    authzEnforced: e.AUTHZ_ENFORCEMENT === 'on',
    authzDecisionTtlMs: e.AUTHZ_DECISION_TTL_MS,
    authzDecisionCacheSize: e.AUTHZ_DECISION_CACHE_SIZE,
    authzTimeoutMs: e.AUTHZ_TIMEOUT_MS,
    instanceId:
      e.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.slice(-100),
  };
}
