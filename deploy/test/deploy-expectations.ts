// What the deployment must provide, declared once for the offline checks (deploy/test/*.spec.ts)
// and documented in deploy/README.md.
import { generateKeyPairSync } from 'node:crypto';

/** A stand-in gateway key pair, made per run so that no key is committed for it. */
const exampleContextKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/**
 * Secrets that are created outside git (kubectl, External Secrets, Sealed Secrets...). The
 * manifests only reference them. `example` is a syntactically valid stand-in used by the tests.
 */
export const EXTERNAL_SECRETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // The gateway's public key(s): not secret, but made with the private key outside git.
  'tenantry-context-token': {
    CONTEXT_TOKEN_PUBLIC_KEYS: exampleContextKey.publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString(),
  },
  // Referenced by the gateway only.
  'tenantry-gateway-context-key': {
    CONTEXT_TOKEN_PRIVATE_KEY: exampleContextKey.privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  },
  'tenantry-identity': {
    IDENTITY_KEY_ENCRYPTION_SECRET: 'test-only-identity-key-encryption-0123456789abcdef',
  },
  'tenantry-identity-db': {
    DATABASE_URL: 'postgres://identity_app:x@db.example.internal:5432/identity',
    DATABASE_OWNER_URL: 'postgres://identity_owner:x@db.example.internal:5432/identity',
  },
  'tenantry-authorization-db': {
    DATABASE_URL: 'postgres://authorization_app:x@db.example.internal:5432/authorization',
    DATABASE_OWNER_URL: 'postgres://authorization_owner:x@db.example.internal:5432/authorization',
  },
  'tenantry-billing-db': {
    DATABASE_URL: 'postgres://billing_app:x@db.example.internal:5432/billing',
    DATABASE_OWNER_URL: 'postgres://billing_owner:x@db.example.internal:5432/billing',
  },
  'tenantry-reporting': {
    REPORTING_EXPORT_SIGNING_SECRET: 'test-only-reporting-export-signing-0123456789abcdef',
  },
  'tenantry-reporting-db': {
    DATABASE_URL: 'postgres://reporting_app:x@db.example.internal:5432/reporting',
    DATABASE_OWNER_URL: 'postgres://reporting_owner:x@db.example.internal:5432/reporting',
  },
  'tenantry-gateway-db': {
    DATABASE_URL: 'postgres://gateway_app:x@db.example.internal:5432/gateway',
    DATABASE_OWNER_URL: 'postgres://gateway_owner:x@db.example.internal:5432/gateway',
  },
  'tenantry-redis': {
    REDIS_URL: 'rediss://:x@redis.example.internal:6380',
  },
};

/** Keys optional in a Secret (their env entries are `optional: true`). */
export const OPTIONAL_SECRET_KEYS: ReadonlySet<string> = new Set<string>([]);

export interface ServiceExpectation {
  /** Keys the service's src/config.ts requires and has no default for: the start fails without. */
  readonly required: readonly string[];
  /** Keys with a default that only suits the local stack (127.0.0.1 addresses, ports). */
  readonly production: readonly string[];
}

const COMMON_PRODUCTION = [
  'PORT',
  'KAFKA_BROKERS',
  'SCHEMA_REGISTRY_URL',
  'TELEMETRY_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
];

export const SERVICES: Readonly<Record<string, ServiceExpectation>> = {
  identity: {
    required: ['CONTEXT_TOKEN_PUBLIC_KEYS', 'IDENTITY_KEY_ENCRYPTION_SECRET'],
    production: [
      ...COMMON_PRODUCTION,
      'IDENTITY_DATABASE_URL',
      'IDENTITY_DATABASE_OWNER_URL',
      'REDIS_URL',
    ],
  },
  authorization: {
    required: ['CONTEXT_TOKEN_PUBLIC_KEYS'],
    production: [
      ...COMMON_PRODUCTION,
      'AUTHORIZATION_DATABASE_URL',
      'AUTHORIZATION_DATABASE_OWNER_URL',
      'INSTANCE_ID',
    ],
  },
  billing: {
    required: ['CONTEXT_TOKEN_PUBLIC_KEYS'],
    production: [
      ...COMMON_PRODUCTION,
      'BILLING_DATABASE_URL',
      'BILLING_DATABASE_OWNER_URL',
      'INSTANCE_ID',
    ],
  },
  reporting: {
    required: ['CONTEXT_TOKEN_PUBLIC_KEYS', 'REPORTING_EXPORT_SIGNING_SECRET'],
    production: [
      ...COMMON_PRODUCTION,
      'REPORTING_DATABASE_URL',
      'REPORTING_DATABASE_OWNER_URL',
      'INSTANCE_ID',
    ],
  },
  gateway: {
    required: ['CONTEXT_TOKEN_PRIVATE_KEY'],
    production: [
      ...COMMON_PRODUCTION,
      'GATEWAY_DATABASE_URL',
      'GATEWAY_DATABASE_OWNER_URL',
      'REDIS_URL',
      'IDENTITY_URL',
      'AUTHORIZATION_URL',
      // Optional in the gateway's config, but without it every /v1/billing route is a 503.
      'BILLING_URL',
      // Likewise for every /v1/reports route.
      'REPORTING_URL',
    ],
  },
};

/** Local-stack settings that production replaces on purpose (Zipkin -> OTLP collector). */
// NODE_ENV: the image sets `production`; only the local stack says `development`, which is what
// lets its published secrets through (libs/tenancy, development-secret.ts).
export const LOCAL_ONLY_ENV: ReadonlySet<string> = new Set(['ZIPKIN_URL', 'NODE_ENV']);

/** Where the cluster's ingress controller and Prometheus run (NetworkPolicy peers). */
export const INGRESS_CONTROLLER_NAMESPACE = 'ingress-nginx';
export const MONITORING_NAMESPACE = 'monitoring';

/** HTTP drain of libs/http startHttpServer (shutdownTimeoutMs default), in seconds. */
export const HTTP_DRAIN_SECONDS = 10;
