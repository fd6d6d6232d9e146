/**
 * What one gateway hop costs: requests/s and latency of a trivial upstream route called through
 * the gateway (JWT verification, rate limit, tenant status, context stamping and signing, proxy,
 * usage recording) against the same route called directly, in the same run.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 \
 *   DATABASE_ADMIN_URL=postgres://postgres:postgres@127.0.0.1:15433/postgres \
 *   node -r @swc-node/register services/gateway/bench/gateway-hop.ts
 *
 * (the test stack's addresses, e.g. after `KEEP_TEST_STACK=1 npx jest ...`; Redis at REDIS_URL
 * or 127.0.0.1:6379). Load goes to 127.0.0.1 only; every run ends by itself. Settings:
 * BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_WORKERS (2: autocannon's worker threads).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startHttpServer } from '@tenantry/http';
import { createLogger } from '@tenantry/observability';
import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import { loadGatewayConfig } from '../src/config';
import { createGatewayService } from '../src/gateway-service';

const LOOPBACK = '127.0.0.1';
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workers = Number(process.env.BENCH_WORKERS ?? 2);

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'bench upstream', version: '1' },
  paths: { '/v1/me': { get: { 'x-permission': 'authenticated', responses: { 200: {} } } } },
};

/** A trivial upstream standing in for identity: JWKS, tenant status and one tiny route. */
async function startUpstream(jwks: unknown): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    } else if (req.url?.startsWith('/internal/v1/tenants/')) {
      const tenantId = decodeURIComponent(req.url.split('/')[4] ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ tenantId, status: 'active' }));
    } else if (req.url === '/openapi.json') {
      // The route's declared permission: any authenticated actor (no authorization call).
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(OPENAPI));
    } else if (req.url === '/v1/me') {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { server, url: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}` };
}

async function load(
  url: string,
  headers: Record<string, string>,
  overallRate?: number,
): Promise<Result> {
  if (new URL(url).hostname !== LOOPBACK) throw new Error(`refusing to load ${url}: not loopback`);
  // Load comes from worker threads, so the generator does not share the event loop it measures.
  return autocannon({
    url,
    connections,
    duration,
    headers,
    workers,
    // autocannon applies `overallRate` in each worker thread.
    ...(overallRate
      ? { overallRate: Math.max(1, Math.floor(overallRate / Math.max(1, workers))) }
      : {}),
  });
}

function describe(name: string, result: Result): string {
  return `${name.padEnd(10)} ${result.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(
    result.latency.p50,
  ).padStart(
    4,
  )} ms   p99 ${String(result.latency.p99).padStart(4)} ms   non-2xx ${result.non2xx}   errors ${result.errors}`;
}

async function main(): Promise<void> {
  const env = testStackEnv();
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  const upstream = await startUpstream({
    keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
  });
  const db = await createTestDatabase(env.databaseAdminUrl, 'gateway_bench');
  const service = await createGatewayService(
    loadGatewayConfig({
      PORT: '0',
      HOST: LOOPBACK,
      GATEWAY_DATABASE_URL: db.appUrl,
      GATEWAY_DATABASE_OWNER_URL: db.ownerUrl,
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: env.schemaRegistryUrl,
      REDIS_URL: process.env.REDIS_URL ?? `redis://${LOOPBACK}:6379`,
      CONTEXT_TOKEN_PRIVATE_KEY: generateContextTokenKeyPair().privateKeyPem,
      IDENTITY_URL: upstream.url,
      // The bench measures the hop, not the limiter refusing it.
      RATE_LIMIT_RPS: '1000000',
      RATE_LIMIT_BURST: '1000000',
    }),
    {
      logger: createLogger('gateway', { level: 'silent' }),
      rateLimitKeyPrefix: `bench:${randomUUID()}:`,
    },
  );
  const gateway = await startHttpServer(service.app, { port: 0, host: LOOPBACK });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: 'tenantry-identity',
    aud: 'tenantry-api',
    act: 'user',
    sub: 'bench-user',
    tid: `bench-${randomUUID()}`,
    jti: randomUUID(),
    iat: now,
    nbf: now,
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  const auth = { authorization: `Bearer ${token}` };
  const direct = `${upstream.url}/v1/me`;
  const through = `http://${LOOPBACK}:${gateway.port}/v1/me`;

  try {
    print(`gateway hop: ${connections} connections, ${duration} s per run, after a 2 s warm-up`);
    const warm = { connections, duration: 2, workers };
    await autocannon({ url: direct, ...warm });
    await autocannon({ url: through, headers: auth, ...warm });
    const baseline = await load(direct, {});
    const hop = await load(through, auth);
    print(describe('direct', baseline));
    print(describe('gateway', hop));
    print(
      `ratio (gateway / direct req/s): ${(hop.requests.average / baseline.requests.average).toFixed(3)}`,
    );
    print(
      `added latency: p50 +${hop.latency.p50 - baseline.latency.p50} ms, p99 +${hop.latency.p99 - baseline.latency.p99} ms`,
    );
    // The latency aim is at half load: both at half the gateway's saturated rate.
    const half = Math.max(1, Math.floor(hop.requests.average / 2));
    const baselineHalf = await load(direct, {}, half);
    const hopHalf = await load(through, auth, half);
    print(`at half load (${half} req/s each):`);
    print(describe('direct', baselineHalf));
    print(describe('gateway', hopHalf));
    print(
      `added latency at half load: p50 +${hopHalf.latency.p50 - baselineHalf.latency.p50} ms, p99 +${hopHalf.latency.p99 - baselineHalf.latency.p99} ms`,
    );
    await service.usage.flush();
    print(`usage events buffered after the run: ${service.usage.pending}`);
    if (hop.non2xx > 0 || hop.errors > 0 || hopHalf.non2xx > 0) process.exitCode = 1;
  } finally {
    await gateway.close();
    await service.stop();
    await new Promise((resolve) => upstream.server.close(resolve));
    upstream.server.closeAllConnections();
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
