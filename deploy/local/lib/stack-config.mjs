// The one declared description of the local stack: versions, ports per profile, databases and
// roles. Everything else in deploy/local reads from here.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CACHE_DIR = path.join(REPO_ROOT, '.cache');
export const STACK_DIR = path.join(REPO_ROOT, '.stack');
export const POM = path.join(REPO_ROOT, 'deploy/local/maven/pom.xml');

// Versions fetched from Maven Central (see docs/adr/0001-kafka-version.md). Keep in sync with the
// defaults in deploy/local/maven/pom.xml; they are passed to mvn with -D so these win.
export const VERSIONS = {
  kafka: '4.4.0',
  apicurio: '3.3.3',
  zipkin: '3.6.1',
};

// Minimum Java feature release per JVM component (class file versions of the jars).
export const MIN_JAVA = { kafka: 17, registry: 21, zipkin: 17 };
export const EXTRA_JDKS = ['/usr/lib/jvm/temurin-25-jdk-amd64'];

// The platform's services that own a database. For each: database `<name>`, owner role
// `<name>_owner` (owns the database, runs migrations), application role `<name>_app` (LOGIN,
// not superuser, not owner, NOBYPASSRLS; gets table rights from the owner's default privileges).
// The gateway's database holds only its outbox (usage events).
export const DATA_SERVICES = ['identity', 'authorization', 'billing', 'reporting', 'gateway'];

/** Local-development passwords: the role name. Never used outside a developer machine / CI. */
export const passwordFor = (role) => role;

export const DATABASES = [
  ...DATA_SERVICES.map((name) => ({ name, owner: `${name}_owner`, app: `${name}_app` })),
  // Apicurio Registry keeps its schemas here; it creates its own tables as the owner.
  { name: 'registry', owner: 'registry', app: null },
];

// Superuser of the embedded PostgreSQL cluster.
export const PG_SUPERUSER = { user: 'postgres', password: 'postgres' };

// Ports per profile. Override with env PLATFORM_<KEY> (any profile) or
// PLATFORM_<PROFILE>_<KEY> (that profile only), e.g. PLATFORM_KAFKA_PORT, PLATFORM_TEST_PG_PORT.
export const PROFILE_DEFAULTS = {
  dev: {
    PG_PORT: 5433,
    KAFKA_PORT: 9092,
    KAFKA_CONTROLLER_PORT: 9093,
    REGISTRY_PORT: 8081,
    REGISTRY_MANAGEMENT_PORT: 9081,
    ZIPKIN_PORT: 9411,
    IDENTITY_PORT: 4001,
    AUTHORIZATION_PORT: 4002,
    BILLING_PORT: 4003,
    REPORTING_PORT: 4004,
    GATEWAY_PORT: 8080,
    GATEWAY_METRICS_PORT: 9464,
    REDIS_PORT: 6379,
  },
  test: {
    PG_PORT: 15433,
    KAFKA_PORT: 19092,
    KAFKA_CONTROLLER_PORT: 19093,
    REGISTRY_PORT: 18081,
    REGISTRY_MANAGEMENT_PORT: 19081,
    ZIPKIN_PORT: 19411,
    IDENTITY_PORT: 14001,
    AUTHORIZATION_PORT: 14002,
    BILLING_PORT: 14003,
    REPORTING_PORT: 14004,
    GATEWAY_PORT: 18080,
    GATEWAY_METRICS_PORT: 19464,
    // The same port as dev: the system Redis most machines run is shared (its keys are
    // per-test random), and one is started here only where none answers.
    REDIS_PORT: 6379,
  },
};

// Heap sizes: modest, this is a laptop/CI stack.
export const JVM_OPTS = {
  kafka: ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20'],
  registry: ['-Xms64m', '-Xmx384m', '-XX:+UseSerialGC'],
  // Zipkin keeps spans on the heap: ~2.9 KB each with the platform's tags (measured: 200k spans
  // = 570 MB live after a full GC). 256 MB filled after ~92k spans of one load run and Zipkin
  // stopped answering. 1 GB holds ZIPKIN_MAX_SPANS with room to spare; if it ever runs out
  // anyway it exits (a dead port fails exports fast) rather than hanging on to connections.
  zipkin: ['-Xms128m', '-Xmx1g', '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError'],
};

// Zipkin's in-memory storage bound (MEM_MAX_SPANS): oldest traces are dropped beyond it. Sized
// for JVM_OPTS.zipkin, about two load runs.
export const ZIPKIN_MAX_SPANS = 200_000;

// Seconds to wait for each component to answer.
export const START_TIMEOUT_S = { redis: 20, postgres: 60, kafka: 120, registry: 240, zipkin: 120 };

// Compatibility rule the schema registry enforces globally.
export const REGISTRY_COMPATIBILITY = 'BACKWARD';

// Secrets of the local stack only (a developer machine or CI); production takes them from its
// secret store. The `local-stack-only-` prefix makes every service refuse these unless NODE_ENV is
// development or test (libs/tenancy, development-secret.ts). The gateway signs context tokens with
// the private key; every service verifies with the public key (ADR 0010). A PEM has no room for a
// prefix: this pair's key id is on libs/tenancy's DEVELOPMENT_KEY_IDS list, refused the same way.
export const DEV_SECRETS = {
  CONTEXT_TOKEN_PRIVATE_KEY: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0x8ZsR3wTEry8o/T
uu5DuQJRcj9UWXXacCzNyUqr43KhRANCAASYZLGRbEA7I6Mx/6D0xLBav7we2Tlg
+6QbH1CGB69/aRzQrbrHX2o8wz4Fxzoxkjp6zsf9QNRsm1d8YtGqPO1X
-----END PRIVATE KEY-----
`,
  IDENTITY_KEY_ENCRYPTION_SECRET: 'local-stack-only-identity-key-encryption-0123456789abcdef',
  REPORTING_EXPORT_SIGNING_SECRET: 'local-stack-only-reporting-export-signing-0123456789abcdef',
};

// Public, so not a secret; published with the private key above. Every service but the gateway
// (which only signs) verifies context tokens with it.
export const DEV_CONTEXT_TOKEN_PUBLIC_KEYS = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmGSxkWxAOyOjMf+g9MSwWr+8Htk5
YPukGx9Qhgevf2kc0K26x19qPMM+Bcc6MZI6es7H/UDUbJtXfGLRqjztVw==
-----END PUBLIC KEY-----
`;

/** Environment every platform service gets: infrastructure addresses, telemetry, secrets. */
function commonServiceEnv(addr) {
  return {
    KAFKA_BROKERS: addr.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: addr.schemaRegistryUrl,
    // The development secrets and keys below are refused by every service outside development.
    NODE_ENV: 'development',
    ...(addr.zipkinUrl
      ? { TELEMETRY_EXPORTER: 'zipkin', ZIPKIN_URL: `${addr.zipkinUrl}/api/v2/spans` }
      : { TELEMETRY_EXPORTER: 'none' }),
  };
}

const RUN_TS = ['node', '-r', '@swc-node/register'];

// The platform's own services, started in this order after the infrastructure (component
// `services`; `--without services` leaves them out, as the test profiles do). Each: { name, cmd,
// env(addr, ports), health(ports) }; logs go to .stack/<profile>/logs/svc-<name>.log.
export const SERVICES = [
  {
    name: 'identity',
    cmd: [...RUN_TS, 'services/identity/src/main.ts'],
    env: (addr, ports) => ({
      ...commonServiceEnv(addr),
      PORT: String(ports.IDENTITY_PORT),
      REDIS_URL: addr.redisUrl,
      IDENTITY_DATABASE_URL: addr.databases.identity.appUrl,
      IDENTITY_DATABASE_OWNER_URL: addr.databases.identity.ownerUrl,
      IDENTITY_KEY_ENCRYPTION_SECRET: DEV_SECRETS.IDENTITY_KEY_ENCRYPTION_SECRET,
      CONTEXT_TOKEN_PUBLIC_KEYS: DEV_CONTEXT_TOKEN_PUBLIC_KEYS,
      // A minute to try `tenants cancel-deletion` locally; production waits 7 days (ADR 0016).
      TENANT_DELETION_GRACE_PERIOD: '60',
      TENANT_PURGE_INTERVAL_MS: '5000',
    }),
    health: (ports) => `http://127.0.0.1:${ports.IDENTITY_PORT}/readyz`,
  },
  {
    name: 'authorization',
    cmd: [...RUN_TS, 'services/authorization/src/main.ts'],
    env: (addr, ports) => ({
      ...commonServiceEnv(addr),
      PORT: String(ports.AUTHORIZATION_PORT),
      AUTHORIZATION_DATABASE_URL: addr.databases.authorization.appUrl,
      AUTHORIZATION_DATABASE_OWNER_URL: addr.databases.authorization.ownerUrl,
      CONTEXT_TOKEN_PUBLIC_KEYS: DEV_CONTEXT_TOKEN_PUBLIC_KEYS,
    }),
    health: (ports) => `http://127.0.0.1:${ports.AUTHORIZATION_PORT}/readyz`,
  },
  {
    // After identity and authorization (its consumers read identity's events from the start, so
    // the order is not needed for correctness), before the gateway, which fetches its OpenAPI
    // document at start to know its routes' permissions.
    name: 'billing',
    cmd: [...RUN_TS, 'services/billing/src/main.ts'],
    env: (addr, ports) => ({
      ...commonServiceEnv(addr),
      PORT: String(ports.BILLING_PORT),
      BILLING_DATABASE_URL: addr.databases.billing.appUrl,
      BILLING_DATABASE_OWNER_URL: addr.databases.billing.ownerUrl,
      CONTEXT_TOKEN_PUBLIC_KEYS: DEV_CONTEXT_TOKEN_PUBLIC_KEYS,
    }),
    health: (ports) => `http://127.0.0.1:${ports.BILLING_PORT}/readyz`,
  },
  {
    // After billing (its read models consume every topic from the start, so the order is not
    // needed for correctness), before the gateway, which fetches its OpenAPI document at start
    // to know its routes' permissions.
    name: 'reporting',
    cmd: [...RUN_TS, 'services/reporting/src/main.ts'],
    env: (addr, ports) => ({
      ...commonServiceEnv(addr),
      PORT: String(ports.REPORTING_PORT),
      REPORTING_DATABASE_URL: addr.databases.reporting.appUrl,
      REPORTING_DATABASE_OWNER_URL: addr.databases.reporting.ownerUrl,
      REPORTING_EXPORT_SIGNING_SECRET: DEV_SECRETS.REPORTING_EXPORT_SIGNING_SECRET,
      CONTEXT_TOKEN_PUBLIC_KEYS: DEV_CONTEXT_TOKEN_PUBLIC_KEYS,
    }),
    health: (ports) => `http://127.0.0.1:${ports.REPORTING_PORT}/readyz`,
  },
  {
    name: 'gateway',
    cmd: [...RUN_TS, 'services/gateway/src/main.ts'],
    env: (addr, ports) => ({
      ...commonServiceEnv(addr),
      PORT: String(ports.GATEWAY_PORT),
      METRICS_PORT: String(ports.GATEWAY_METRICS_PORT),
      REDIS_URL: addr.redisUrl,
      GATEWAY_DATABASE_URL: addr.databases.gateway.appUrl,
      GATEWAY_DATABASE_OWNER_URL: addr.databases.gateway.ownerUrl,
      IDENTITY_URL: `http://127.0.0.1:${ports.IDENTITY_PORT}`,
      AUTHORIZATION_URL: `http://127.0.0.1:${ports.AUTHORIZATION_PORT}`,
      BILLING_URL: `http://127.0.0.1:${ports.BILLING_PORT}`,
      REPORTING_URL: `http://127.0.0.1:${ports.REPORTING_PORT}`,
      // Only the gateway holds the private key: only it can mint a context.
      CONTEXT_TOKEN_PRIVATE_KEY: DEV_SECRETS.CONTEXT_TOKEN_PRIVATE_KEY,
    }),
    health: (ports) => `http://127.0.0.1:${ports.GATEWAY_PORT}/readyz`,
  },
];

function envNum(profile, key) {
  const specific = process.env[`PLATFORM_${profile.toUpperCase()}_${key}`];
  const generic = process.env[`PLATFORM_${key}`];
  const v = specific ?? generic;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535)
    throw new Error(`invalid port in env for ${key}: ${v}`);
  return n;
}

function envStr(profile, key) {
  return (
    process.env[`PLATFORM_${profile.toUpperCase()}_${key}`] ||
    process.env[`PLATFORM_${key}`] ||
    undefined
  );
}

/** Resolved settings of one profile (ports, folders, external database). */
export function profileConfig(profile = 'dev') {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(profile)) throw new Error(`invalid profile name: ${profile}`);
  const base = PROFILE_DEFAULTS[profile] ?? PROFILE_DEFAULTS.dev;
  const ports = {};
  for (const key of Object.keys(PROFILE_DEFAULTS.dev))
    ports[key] = envNum(profile, key) ?? base[key];
  const dir = path.join(STACK_DIR, profile);
  return {
    profile,
    dir,
    logDir: path.join(dir, 'logs'),
    pidDir: path.join(dir, 'pids'),
    ports,
    externalDatabaseAdminUrl: envStr(profile, 'DATABASE_ADMIN_URL'),
    // A Redis elsewhere (PLATFORM_REDIS_URL): used as it is, none is started.
    externalRedisUrl: envStr(profile, 'REDIS_URL'),
  };
}
