/**
 * What the gateway benchmarks share: a trivial upstream standing in for identity (JWKS, tenant
 * status, one tiny route), a sink for exported spans, the gateway's database, access tokens, the
 * gateway and the baseline proxy as child processes (`gateway-child.ts`), and autocannon runs
 * against 127.0.0.1 only.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { KeyLike } from 'jose';
import { generateContextTokenKeyPair } from '@tenantry/tenancy';
import { createTestDatabase } from '@tenantry/testing';
import { Cleanup, withTimeout } from './bench-kit';
import type { BenchStack } from './stack';
import { REPO_ROOT } from './stack';

export const LOOPBACK = '127.0.0.1';
/** The proxied route of every gateway benchmark (identity's, permission `authenticated`). */
export const ROUTE = '/v1/me';

const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'bench upstream', version: '1' },
  paths: { [ROUTE]: { get: { 'x-permission': 'authenticated', responses: { 200: {} } } } },
};

export interface LoadSettings {
  readonly connections: number;
  readonly durationS: number;
  /** autocannon worker threads, so the generator does not share an event loop it measures. */
  readonly workers: number;
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Paced runs: requests not sent because `maxInFlight` were outstanding (a stall). */
  readonly skipped: number;
  readonly total: number;
}

function summarise(result: Result): LoadResult {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    skipped: 0,
    total: result.requests.total,
  };
}

/** One autocannon run; `rate` (requests/s over all connections) makes it an open-ish loop. */
export async function load(
  url: string,
  headers: Record<string, string>,
  settings: LoadSettings,
  rate?: number,
): Promise<LoadResult> {
  if (new URL(url).hostname !== LOOPBACK) throw new Error(`refusing to load ${url}: not loopback`);
  const workers = Math.max(1, settings.workers);
  const result = await withTimeout(
    autocannon({
      url,
      connections: settings.connections,
      duration: settings.durationS,
      headers,
      workers,
      // autocannon applies `overallRate` in each worker thread.
      ...(rate ? { overallRate: Math.max(1, Math.floor(rate / workers)) } : {}),
    }),
    (settings.durationS + 60) * 1000,
    `autocannon ${url}`,
  );
  return summarise(result);
}

/**
 * Paced load in a worker thread: requests sent at evenly spaced times (an open loop, rate
 * `rate`/s, at most `maxInFlight` outstanding), each latency counted from when it was due, so a
 * stall counts for every request it delays. autocannon's `overallRate` is not used for this: it
 * gives each connection its quota at the start of every second, so all connections fire together
 * and a "half load" run measures a burst of `connections` concurrent requests once a second.
 */
const PACED_WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, headers, rate, durationS, maxInFlight } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
const target = new URL(url);
const latencies = [];
let sent = 0, inFlight = 0, non2xx = 0, errors = 0, skipped = 0;
const start = performance.now();
const total = Math.floor(rate * durationS);
function one(due) {
  inFlight++;
  const req = http.request({ host: target.hostname, port: target.port, path: target.pathname,
    method: 'GET', headers, agent }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
      latencies.push(performance.now() - due);
      done();
    });
  });
  req.on('error', () => { errors++; done(); });
  req.end();
}
function done() { inFlight--; if (sent >= total && inFlight === 0) finish(); }
function finish() {
  parentPort.postMessage({ latencies, non2xx, errors, skipped,
    seconds: (performance.now() - start) / 1000 });
}
function tick() {
  const elapsed = performance.now() - start;
  const due = Math.min(total, Math.floor((elapsed / 1000) * rate) + 1);
  while (sent < due) {
    const at = start + (sent * 1000) / rate;
    sent++;
    if (inFlight >= maxInFlight) { skipped++; latencies.push(performance.now() - at); continue; }
    one(at);
  }
  if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / rate - performance.now()));
  else if (inFlight === 0) finish();
}
tick();
`;

function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** `rate` requests/s for `durationS` from a worker thread; latencies in ms (0.1 ms steps). */
export async function paced(
  url: string,
  headers: Record<string, string>,
  rate: number,
  durationS: number,
  maxInFlight = 1024,
): Promise<LoadResult> {
  if (new URL(url).hostname !== LOOPBACK) throw new Error(`refusing to load ${url}: not loopback`);
  const worker = new Worker(PACED_WORKER, {
    eval: true,
    workerData: { url, headers, rate, durationS, maxInFlight },
  });
  try {
    const out = await withTimeout(
      new Promise<{
        latencies: number[];
        non2xx: number;
        errors: number;
        skipped: number;
        seconds: number;
      }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      (durationS + 60) * 1000,
      `paced load ${url}`,
    );
    const sorted = out.latencies.sort((a, b) => a - b);
    return {
      rps: out.latencies.length / out.seconds,
      p50: round(percentileOf(sorted, 50)),
      p99: round(percentileOf(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      non2xx: out.non2xx,
      errors: out.errors,
      skipped: out.skipped,
      total: out.latencies.length,
    };
  } finally {
    await worker.terminate();
  }
}

export interface ChildHandle {
  readonly url: string;
  readonly child: ChildProcess;
  /** The child's CPU time so far (user + system), in µs. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `run` and returns it with the child's CPU time per completed request, in µs. Unlike req/s,
 * this barely moves when other work shares the cores: it counts the child's own work, not how
 * much of the machine it was given.
 */
export async function withCpuPerRequest(
  child: ChildHandle,
  run: () => Promise<LoadResult>,
): Promise<LoadResult & { cpuMicrosPerRequest: number }> {
  const before = await child.cpuMicros();
  const result = await run();
  const used = (await child.cpuMicros()) - before;
  return { ...result, cpuMicrosPerRequest: result.total > 0 ? used / result.total : Number.NaN };
}

/** Starts `gateway-child.ts` in `mode` and waits for its port. */
export async function startChild(
  mode: 'gateway' | 'proxy',
  env: NodeJS.ProcessEnv,
  cpuProfileDir?: string,
): Promise<ChildHandle> {
  const child = fork(path.join(__dirname, 'gateway-child.ts'), [], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, BENCH_CHILD_MODE: mode },
    execArgv: [
      '-r',
      '@swc-node/register',
      ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.once('message', (message: { port?: number }) =>
        message.port ? resolve(message.port) : reject(new Error(`bad message from ${mode}`)),
      );
      child.once('exit', (code) => reject(new Error(`${mode} child exited with ${code}`)));
    }),
    120_000,
    `${mode} child start`,
  );
  return {
    url: `http://${LOOPBACK}:${port}`,
    child,
    cpuMicros: () =>
      withTimeout(
        new Promise<number>((resolve) => {
          const onMessage = (message: { cpuMicros?: number }): void => {
            if (message.cpuMicros === undefined) return;
            child.off('message', onMessage);
            resolve(message.cpuMicros);
          };
          child.on('message', onMessage);
          child.send({ cpu: true });
        }),
        10_000,
        `${mode} child cpu`,
      ),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await withTimeout(exited, 25_000, `${mode} child stop`).catch(() => child.kill('SIGKILL'));
    },
  };
}

export interface GatewayBed {
  readonly upstreamUrl: string;
  /** Where a telemetry-on gateway exports its spans (counted per name, then dropped). */
  otlpUrl(name: string): string;
  exportRequests(name: string): number;
  /** Environment of a gateway child: its database, the stack, the upstream as identity. */
  readonly gatewayEnv: NodeJS.ProcessEnv;
  /** A fresh tenant's bearer header. */
  tokenFor(tenantId: string): Promise<Record<string, string>>;
  readonly cleanup: Cleanup;
}

/** Answers every POST with 200 after reading it: the collector of telemetry-on gateways. */
async function startSink(): Promise<{
  server: Server;
  url: string;
  count: (path: string) => number;
}> {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      counts.set(path, (counts.get(path) ?? 0) + 1);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const url = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  return { server, url, count: (path) => counts.get(path) ?? 0 };
}

/** A trivial upstream standing in for identity: JWKS, tenant status and one tiny route. */
async function startUpstream(jwks: unknown): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify({ ok: true });
  const keys = JSON.stringify(jwks);
  const openapi = JSON.stringify(OPENAPI);
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(keys);
    } else if (req.url?.startsWith('/internal/v1/tenants/')) {
      const tenantId = decodeURIComponent(req.url.split('/')[4] ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ tenantId, status: 'active' }));
    } else if (req.url === '/openapi.json') {
      // The route's declared permission: any authenticated actor (no authorization call).
      res.setHeader('content-type', 'application/json');
      res.end(openapi);
    } else if (req.url === ROUTE) {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { server, url: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Upstream, span sink and database; everything is undone by `cleanup.run()`. */
export async function openGatewayBed(stack: BenchStack, name: string): Promise<GatewayBed> {
  const cleanup = new Cleanup();
  try {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = randomUUID();
    const upstream = await startUpstream({
      keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }],
    });
    cleanup.add('upstream', () => closeServer(upstream.server));
    const sink = await startSink();
    cleanup.add('span sink', () => closeServer(sink.server));
    const db = await createTestDatabase(stack.databaseAdminUrl, `bench_${name}`);
    cleanup.add('gateway database', () => db.drop());
    const gatewayEnv: NodeJS.ProcessEnv = {
      PORT: '0',
      HOST: LOOPBACK,
      METRICS_PORT: '0',
      GATEWAY_DATABASE_URL: db.appUrl,
      GATEWAY_DATABASE_OWNER_URL: db.ownerUrl,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      REDIS_URL: process.env.REDIS_URL ?? `redis://${LOOPBACK}:6379`,
      CONTEXT_TOKEN_PRIVATE_KEY: generateContextTokenKeyPair().privateKeyPem,
      IDENTITY_URL: upstream.url,
      // The hop is measured, not the limiter refusing it (fairness cases set their own limits).
      RATE_LIMIT_RPS: '1000000',
      RATE_LIMIT_BURST: '1000000',
      BENCH_CHILD_RATE_PREFIX: `bench:${randomUUID()}:`,
      BENCH_CHILD_UPSTREAM: upstream.url,
      TELEMETRY_EXPORTER: 'none',
    };
    return {
      upstreamUrl: upstream.url,
      otlpUrl: (name) => `${sink.url}/v1/traces/${name}`,
      exportRequests: (name) => sink.count(`/v1/traces/${name}`),
      gatewayEnv,
      tokenFor: (tenantId) => signAccessToken(privateKey, kid, tenantId),
      cleanup,
    };
  } catch (error) {
    await cleanup.run();
    throw error;
  }
}

async function signAccessToken(
  privateKey: KeyLike,
  kid: string,
  tenantId: string,
): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: 'tenantry-identity',
    aud: 'tenantry-api',
    act: 'user',
    sub: `bench-user-${randomUUID()}`,
    tid: tenantId,
    jti: randomUUID(),
    iat: now,
    nbf: now,
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  return { authorization: `Bearer ${token}` };
}

/** A tenant id nobody else uses (rate-limit buckets are per tenant). */
export function benchTenant(label: string): string {
  return `bench-${label}-${randomUUID().slice(0, 8)}`;
}
