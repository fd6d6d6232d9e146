import { randomUUID } from 'node:crypto';
import request from 'node:http';
import { startHttpServer } from '@tenantry/http';
import type { HttpServerHandle } from '@tenantry/http';
import { createLogger } from '@tenantry/observability';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { contextTokenTestKeys, createTestDatabase, testStackEnv } from '@tenantry/testing';
import type { TestDatabase } from '@tenantry/testing';
import { loadGatewayConfig } from '../../src/config';
import type { GatewayConfig } from '../../src/config';
import { createGatewayService } from '../../src/gateway-service';
import type { GatewayService } from '../../src/gateway-service';
import { FakeIdentity } from './fake-identity';

/**
 * The real gateway, in-process, on an ephemeral port, with its own database (outbox), the test
 * stack's Kafka and registry, the local Redis (buckets under a unique prefix), and a fake
 * identity upstream.
 */
export class GatewayHarness {
  /** The gateway signs with the private key; the fake upstreams verify with the public one. */
  readonly contextKeys = contextTokenTestKeys();
  readonly contextKey: ContextTokenKey = this.contextKeys.pair.verificationKey;
  readonly identity = new FakeIdentity(this.contextKey);
  readonly env = testStackEnv();
  db!: TestDatabase;
  config!: GatewayConfig;
  service!: GatewayService;
  server!: HttpServerHandle;
  metricsServer!: HttpServerHandle;
  url = '';
  metricsUrl = '';

  async start(overrides: Record<string, string> = {}): Promise<this> {
    await this.identity.start();
    await this.identity.addSigningKey();
    this.db = await createTestDatabase(this.env.databaseAdminUrl, 'gateway');
    this.config = loadGatewayConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      GATEWAY_DATABASE_URL: this.db.appUrl,
      GATEWAY_DATABASE_OWNER_URL: this.db.ownerUrl,
      KAFKA_BROKERS: this.env.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: this.env.schemaRegistryUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...this.contextKeys.gatewayEnv,
      IDENTITY_URL: this.identity.url,
      // These suites test the other steps; gateway-permissions.int.spec.ts turns checks on.
      AUTHZ_ENFORCEMENT: 'off',
      AUTHORIZATION_URL: 'http://127.0.0.1:9',
      JWKS_CACHE_MAX_AGE_MS: '1000',
      JWKS_COOLDOWN_MS: '200',
      API_KEY_CACHE_MS: '300',
      TENANT_STATUS_CACHE_MS: '300',
      UPSTREAM_TIMEOUT_MS: '1000',
      BODY_LIMIT_BYTES: '4096',
      USAGE_FLUSH_INTERVAL_MS: '100',
      ...overrides,
    });
    this.service = await createGatewayService(this.config, {
      logger: createLogger('gateway', { level: process.env.GATEWAY_TEST_LOG_LEVEL ?? 'silent' }),
      rateLimitKeyPrefix: `test:gateway:${randomUUID()}:`,
    });
    this.server = await startHttpServer(this.service.app, { port: 0, host: '127.0.0.1' });
    this.url = `http://127.0.0.1:${this.server.port}`;
    this.metricsServer = await startHttpServer(this.service.metricsApp, { port: 0 });
    this.metricsUrl = `http://127.0.0.1:${this.metricsServer.port}`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await this.metricsServer?.close();
    await this.service?.stop();
    await this.identity.stop();
    await this.db?.drop();
  }

  /** A request sent with the path exactly as written (no client-side URL normalisation). */
  rawRequest(
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; contentType: string | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request.request(
        { host: '127.0.0.1', port: this.server.port, method, path, headers },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              body,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}
