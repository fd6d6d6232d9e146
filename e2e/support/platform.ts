import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestDatabase } from '@tenantry/testing';
import { contextTokenTestKeys, createTestDatabase, testStackEnv } from '@tenantry/testing';
import { ServiceProcess, freePort } from './service-process';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');

export interface PlatformOptions {
  /** Per-tenant rate limit at the gateway. */
  readonly rateLimitRps?: number;
  readonly rateLimitBurst?: number;
  /** How long the gateway reuses a permission decision (AUTHZ_DECISION_TTL_MS). */
  readonly decisionTtlMs?: number;
  /** How long the gateway reuses identity's answer for an API key (API_KEY_CACHE_MS). */
  readonly apiKeyCacheMs?: number;
  /** Which hops the gateway lets set X-Forwarded-For (GATEWAY_TRUST_PROXY). */
  readonly gatewayTrustProxy?: string;
  /** Identity's failed logins per client address (LOGIN_FAILURES_PER_IP). */
  readonly loginFailuresPerIp?: number;
  /** A broker of the test's own (e.g. a PrivateKafka it kills); default: the test stack's. */
  readonly kafkaBrokers?: readonly string[];
  /**
   * Runs billing too, with the gateway routing /v1/billing to it. Off by default: only the tests
   * that need it pay for its start (and for its consumers reading the topics' history).
   */
  readonly billing?: boolean;
  /** Runs reporting too (routed at /v1/reports), e.g. to see a tenant's offboarding end. */
  readonly reporting?: boolean;
  /**
   * Identity's TENANT_DELETION_GRACE_PERIOD (default 0: a deletion's purge starts within the
   * scheduler's interval, a quarter second here).
   */
  readonly deletionGracePeriod?: string;
  /** Extra environment for every service (e.g. a Zipkin to export spans to). */
  readonly serviceEnv?: Readonly<Record<string, string>>;
}

/**
 * Identity, authorization (and, when asked, billing) and the gateway as real processes on fresh
 * databases, against the test stack's Kafka, registry, PostgreSQL and Redis. Tests talk to
 * `gatewayUrl` as a client would.
 */
export class E2ePlatform {
  /** The gateway's key pair: the gateway gets the private key, the services the public one. */
  readonly contextKeys = contextTokenTestKeys();
  private readonly keySecret = randomBytes(32).toString('hex');
  private readonly databases: TestDatabase[] = [];
  identity!: ServiceProcess;
  authorization!: ServiceProcess;
  gateway!: ServiceProcess;
  identityDb!: TestDatabase;
  authorizationDb!: TestDatabase;
  /** Set only when started with `billing: true`. */
  billing: ServiceProcess | undefined;
  billingDb: TestDatabase | undefined;
  /** Set only when started with `reporting: true`. */
  reporting: ServiceProcess | undefined;
  reportingDb: TestDatabase | undefined;
  /** Every service's database by service name (identity, authorization, gateway, ...). */
  readonly databasesByService = new Map<string, TestDatabase>();
  /** The gateway's metrics port (`GET /metrics`), apart from the port clients use. */
  gatewayMetricsUrl = '';

  constructor(private readonly options: PlatformOptions = {}) {}

  get gatewayUrl(): string {
    return this.gateway.url;
  }

  async start(): Promise<this> {
    const env = testStackEnv();
    const [identityDb, gatewayDb, authorizationDb, billingDb, reportingDb] = await Promise.all([
      createTestDatabase(env.databaseAdminUrl, 'e2e_identity'),
      createTestDatabase(env.databaseAdminUrl, 'e2e_gateway'),
      createTestDatabase(env.databaseAdminUrl, 'e2e_authorization'),
      this.options.billing ? createTestDatabase(env.databaseAdminUrl, 'e2e_billing') : undefined,
      this.options.reporting
        ? createTestDatabase(env.databaseAdminUrl, 'e2e_reporting')
        : undefined,
    ]);
    this.identityDb = identityDb;
    this.authorizationDb = authorizationDb;
    this.databases.push(this.identityDb, gatewayDb, authorizationDb);
    this.databasesByService.set('identity', this.identityDb);
    this.databasesByService.set('gateway', gatewayDb);
    this.databasesByService.set('authorization', authorizationDb);
    const [
      identityPort,
      authorizationPort,
      gatewayPort,
      gatewayMetricsPort,
      billingPort,
      reportingPort,
    ] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    this.gatewayMetricsUrl = `http://127.0.0.1:${gatewayMetricsPort}`;
    const common = {
      KAFKA_BROKERS: (this.options.kafkaBrokers ?? env.kafkaBrokers).join(','),
      SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...this.options.serviceEnv,
    };
    this.identity = new ServiceProcess(
      'identity',
      'services/identity/src/main.ts',
      {
        ...common,
        ...this.contextKeys.serviceEnv,
        PORT: String(identityPort),
        IDENTITY_DATABASE_URL: this.identityDb.appUrl,
        IDENTITY_DATABASE_OWNER_URL: this.identityDb.ownerUrl,
        IDENTITY_KEY_ENCRYPTION_SECRET: this.keySecret,
        IDENTITY_REDIS_KEY_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
        // Its own consumer group: other runs' purge confirmations are not this database's.
        KAFKA_CONSUMER_GROUP_PREFIX: `e2e-identity-${randomBytes(4).toString('hex')}`,
        TENANT_DELETION_GRACE_PERIOD: this.options.deletionGracePeriod ?? '0',
        TENANT_PURGE_INTERVAL_MS: '250',
        ...(this.options.loginFailuresPerIp === undefined
          ? {}
          : { LOGIN_FAILURES_PER_IP: String(this.options.loginFailuresPerIp) }),
      },
      `http://127.0.0.1:${identityPort}`,
    );
    this.authorization = new ServiceProcess(
      'authorization',
      'services/authorization/src/main.ts',
      {
        ...common,
        ...this.contextKeys.serviceEnv,
        PORT: String(authorizationPort),
        AUTHORIZATION_DATABASE_URL: authorizationDb.appUrl,
        AUTHORIZATION_DATABASE_OWNER_URL: authorizationDb.ownerUrl,
        // Its own consumer groups: identity's history is read into this run's database only.
        KAFKA_CONSUMER_GROUP_PREFIX: `e2e-authz-${randomBytes(4).toString('hex')}`,
        AUTHZ_POLICY_POLL_MS: '500',
      },
      `http://127.0.0.1:${authorizationPort}`,
    );
    if (billingDb) {
      this.billingDb = billingDb;
      this.databases.push(billingDb);
      this.databasesByService.set('billing', billingDb);
      this.billing = new ServiceProcess(
        'billing',
        'services/billing/src/main.ts',
        {
          ...common,
          ...this.contextKeys.serviceEnv,
          PORT: String(billingPort),
          BILLING_DATABASE_URL: billingDb.appUrl,
          BILLING_DATABASE_OWNER_URL: billingDb.ownerUrl,
          // Its own consumer groups: the topics' history is read into this run's database only.
          KAFKA_CONSUMER_GROUP_PREFIX: `e2e-billing-${randomBytes(4).toString('hex')}`,
          // That history holds usage of tenants this database never saw (other tests' runs):
          // each is refused, and with the default retries would hold its partition for about a
          // second before reaching the DLQ.
          BILLING_USAGE_RETRY_ATTEMPTS: '2',
          BILLING_USAGE_RETRY_INITIAL_DELAY_MS: '20',
          BILLING_USAGE_RETRY_MAX_DELAY_MS: '50',
        },
        `http://127.0.0.1:${billingPort}`,
      );
    }
    if (reportingDb) {
      this.reportingDb = reportingDb;
      this.databases.push(reportingDb);
      this.databasesByService.set('reporting', reportingDb);
      this.reporting = new ServiceProcess(
        'reporting',
        'services/reporting/src/main.ts',
        {
          ...common,
          ...this.contextKeys.serviceEnv,
          PORT: String(reportingPort),
          REPORTING_DATABASE_URL: reportingDb.appUrl,
          REPORTING_DATABASE_OWNER_URL: reportingDb.ownerUrl,
          KAFKA_CONSUMER_GROUP_PREFIX: `e2e-reporting-${randomBytes(4).toString('hex')}`,
          REPORTING_EXPORT_SIGNING_SECRET: randomBytes(32).toString('hex'),
          // The topics' history holds events of tenants this database never saw; refusals of
          // them reach the DLQ fast instead of holding a partition.
          REPORTING_RETRY_ATTEMPTS: '2',
          REPORTING_RETRY_INITIAL_DELAY_MS: '20',
          REPORTING_RETRY_MAX_DELAY_MS: '50',
        },
        `http://127.0.0.1:${reportingPort}`,
      );
    }
    this.gateway = new ServiceProcess(
      'gateway',
      'services/gateway/src/main.ts',
      {
        ...common,
        ...this.contextKeys.gatewayEnv,
        PORT: String(gatewayPort),
        METRICS_PORT: String(gatewayMetricsPort),
        HOST: '127.0.0.1',
        GATEWAY_DATABASE_URL: gatewayDb.appUrl,
        GATEWAY_DATABASE_OWNER_URL: gatewayDb.ownerUrl,
        IDENTITY_URL: this.identity.url,
        AUTHORIZATION_URL: this.authorization.url,
        ...(this.billing ? { BILLING_URL: this.billing.url } : {}),
        ...(this.reporting ? { REPORTING_URL: this.reporting.url } : {}),
        AUTHZ_DECISION_TTL_MS: String(this.options.decisionTtlMs ?? 10_000),
        AUTHZ_TIMEOUT_MS: '1000',
        RATE_LIMIT_RPS: String(this.options.rateLimitRps ?? 200),
        RATE_LIMIT_BURST: String(this.options.rateLimitBurst ?? 400),
        // Every test user signs up and logs in from 127.0.0.1.
        PUBLIC_RATE_LIMIT_RPS: '1000',
        PUBLIC_RATE_LIMIT_BURST: '1000',
        // Likewise every client's failed authentications (suites send hundreds on purpose).
        GATEWAY_AUTH_FAILURE_RPS: '1000',
        GATEWAY_AUTH_FAILURE_BURST: '10000',
        ...(this.options.gatewayTrustProxy === undefined
          ? {}
          : { GATEWAY_TRUST_PROXY: this.options.gatewayTrustProxy }),
        TENANT_STATUS_CACHE_MS: '500',
        API_KEY_CACHE_MS: String(this.options.apiKeyCacheMs ?? 500),
      },
      `http://127.0.0.1:${gatewayPort}`,
    );
    await Promise.all([
      this.identity.start(),
      this.authorization.start(),
      this.billing?.start(),
      this.reporting?.start(),
    ]);
    // After the services: it reads their OpenAPI documents (the routes' permissions) at start.
    await this.gateway.start();
    return this;
  }

  /** Stops the authorization service (SIGTERM), e.g. to prove the gateway then refuses. */
  async stopAuthorization(): Promise<void> {
    await this.authorization.stop();
  }

  /** Starts it again on the same port and database. */
  async startAuthorization(): Promise<void> {
    await this.authorization.start();
  }

  /** Creates a platform operator with identity's bootstrap command. */
  async createOperator(email: string, password: string): Promise<void> {
    await run(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'services/identity/src/cli/create-operator.ts',
        '--email',
        email,
        '--role',
        'admin',
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          OPERATOR_PASSWORD: password,
          IDENTITY_DATABASE_URL: this.identityDb.appUrl,
          IDENTITY_DATABASE_OWNER_URL: this.identityDb.ownerUrl,
          IDENTITY_KEY_ENCRYPTION_SECRET: this.keySecret,
          LOG_LEVEL: 'warn',
          TELEMETRY_EXPORTER: 'none',
        },
      },
    );
  }

  /**
   * Every service together, the gateway too: each one's graceful stop (HTTP drain, consumers
   * leaving their groups, relay) is seconds (billing's about 4, the gateway's about 3), none
   * needs another for its own, and no request is in flight when a suite stops its platform.
   */
  async stop(): Promise<void> {
    await Promise.all([
      this.gateway?.stop(),
      this.reporting?.stop(),
      this.billing?.stop(),
      this.authorization?.stop(),
      this.identity?.stop(),
    ]);
    await Promise.all(this.databases.map((database) => database.drop()));
  }
}
