/**
 * Authorization checks at platform scale: 10,000 tenants x 20 users x 5 roles x 50 permissions
 * in the authorization service's PostgreSQL tables, loaded as a deployment loads them (one
 * tenant at a time, filtered, into a bounded cache of Casbin enforcers).
 *
 *  - in-process: PolicyEngine decisions per second on cached tenants, divided by Casbin's own
 *    `enforce` on its 6-rule RBAC-with-domains example, measured in the same run (aim >= 0.5);
 *    also a uniform spread over every tenant (cache misses load from PostgreSQL);
 *  - HTTP: the real service (a child process) answering `POST /internal/v1/authz/check` on
 *    127.0.0.1, p50/p99 from a bounded keep-alive loop (aim p99 <= 2 ms);
 *  - resident memory of both processes.
 *
 *   npx tsx bench/authz-check.bench.ts
 *   BENCH_AUTHZ_TENANTS=500 BENCH_AUTHZ_HTTP_REQUESTS=2000 npx tsx bench/authz-check.bench.ts
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { newEnforcer } from 'casbin';
import { Client } from 'pg';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import { generateContextTokenKeyPair, signContextToken } from '@tenantry/tenancy';
import { createTestDatabase } from '@tenantry/testing';
// A benchmark of this service has to run its engine and migrations; nothing else imports it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { AUTHORIZATION_MIGRATIONS } from '../services/authorization/src/persistence/migrations/authorization-migrations';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { PolicyEngine } from '../services/authorization/src/policy/policy-engine';
import {
  Cleanup,
  fmtRate,
  fmtRatio,
  intFromEnv,
  intListFromEnv,
  sizeFromEnv,
  table,
  withTimeout,
  runWhenMain,
} from './support/bench-kit';
import type { BenchStack } from './support/stack';
import { REPO_ROOT, acquireStack } from './support/stack';

export interface AuthzBenchOptions {
  readonly tenants: number;
  readonly usersPerTenant: number;
  readonly rolesPerTenant: number;
  readonly permissionsPerRole: number;
  /** Enforcers kept loaded (the service's AUTHZ_ENFORCER_CACHE_SIZE). */
  readonly cacheSize: number;
  /** Seconds per in-process measurement. */
  readonly seconds: number;
  readonly httpRequests: number;
  readonly httpConcurrency: readonly number[];
  readonly timeoutMs: number;
}

export function authzOptionsFromEnv(): AuthzBenchOptions {
  return {
    tenants: sizeFromEnv('BENCH_AUTHZ_TENANTS', 1_000, 10_000),
    usersPerTenant: intFromEnv('BENCH_AUTHZ_USERS', 20),
    rolesPerTenant: intFromEnv('BENCH_AUTHZ_ROLES', 5),
    permissionsPerRole: intFromEnv('BENCH_AUTHZ_PERMISSIONS', 50),
    cacheSize: intFromEnv('BENCH_AUTHZ_CACHE_SIZE', 2000),
    seconds: intFromEnv('BENCH_AUTHZ_SECONDS', 3),
    httpRequests: sizeFromEnv('BENCH_AUTHZ_HTTP_REQUESTS', 5_000, 20_000),
    httpConcurrency: intListFromEnv('BENCH_AUTHZ_HTTP_CONCURRENCY', [1, 4]),
    timeoutMs: intFromEnv('BENCH_TIMEOUT_MS', 900_000),
  };
}

export interface HttpRun {
  readonly concurrency: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly rps: number;
}

export interface AuthzBenchResult {
  readonly options: AuthzBenchOptions;
  readonly fillSeconds: number;
  readonly policyLines: number;
  readonly casbinExampleOpsPerSecond: number;
  readonly warmOpsPerSecond: number;
  readonly ratio: number;
  readonly casbinEnforceOnBenchTenantOpsPerSecond: number;
  readonly uniformOpsPerSecond: number;
  readonly uniformHitRate: number;
  readonly loadMs: { p50: number; p99: number };
  readonly benchRssMb: number;
  readonly heapPerTenantKb: number;
  readonly http: readonly HttpRun[];
  readonly serviceRssMb: number;
}

const tenantId = (t: number): string => `bt-${t}`;
const userId = (u: number): string => `u${u}`;
/** Role r of every tenant holds permissions (r*10 + p) mod 2P for p < P: overlapping sets. */
const permissionOf = (n: number): string => `bench.res${n}:read`;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

function adminUrlFor(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Fills the service's tables directly (as a superuser: bulk SQL, not what is measured). */
async function fill(url: string, o: AuthzBenchOptions): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const started = Date.now();
  try {
    const perms = o.permissionsPerRole * 2;
    await client.query(
      `INSERT INTO tenants (tenant_id, state) SELECT 'bt-' || t, 'active' FROM generate_series(1, $1) t`,
      [o.tenants],
    );
    await client.query(
      `INSERT INTO roles (tenant_id, name, description, built_in)
       SELECT 'bt-' || t, 'r' || r, '', false
       FROM generate_series(1, $1) t, generate_series(0, $2 - 1) r`,
      [o.tenants, o.rolesPerTenant],
    );
    // Per chunk of tenants, so one statement never holds millions of rows in memory.
    for (let from = 1; from <= o.tenants; from += 1000) {
      const to = Math.min(o.tenants, from + 999);
      await client.query(
        `INSERT INTO role_permissions (tenant_id, role, permission)
         SELECT 'bt-' || t, 'r' || r, 'bench.res' || ((r * 10 + p) % $4) || ':read'
         FROM generate_series($1::int, $2::int) t, generate_series(0, $3 - 1) r,
              generate_series(0, $5 - 1) p`,
        [from, to, o.rolesPerTenant, perms, o.permissionsPerRole],
      );
      // Each user holds role u mod R; the first R users hold a second one too.
      await client.query(
        `INSERT INTO role_assignments (tenant_id, subject_type, subject_id, role)
         SELECT 'bt-' || t, 'user', 'u' || u, 'r' || (u % $4)
         FROM generate_series($1::int, $2::int) t, generate_series(0, $3 - 1) u
         UNION ALL
         SELECT 'bt-' || t, 'user', 'u' || u, 'r' || ((u + 1) % $4)
         FROM generate_series($1::int, $2::int) t, generate_series(0, LEAST($3, $4) - 1) u
         WHERE $4 > 1`,
        [from, to, o.usersPerTenant, o.rolesPerTenant],
      );
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
  return (Date.now() - started) / 1000;
}

/** Runs `op` in a tight loop for `seconds`, checking the clock every 256 operations. */
async function opsPerSecond(seconds: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20_000; i += 1) await op(i); // warm-up (JIT, memo)
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < deadline) {
    for (let j = 0; j < 256; j += 1) await op(n++);
  }
  return n / ((performance.now() - started) / 1000);
}

/** Casbin's enforce on its own 6-rule RBAC-with-domains example: the baseline. */
async function casbinExampleBaseline(seconds: number): Promise<number> {
  const examples = path.join(REPO_ROOT, 'node_modules/casbin/examples');
  const enforcer = await newEnforcer(
    path.join(examples, 'rbac_with_domains_model.conf'),
    path.join(examples, 'rbac_with_domains_policy.csv'),
  );
  const requests = [
    ['alice', 'domain1', 'data1', 'read'],
    ['alice', 'domain1', 'data2', 'write'],
    ['bob', 'domain2', 'data2', 'write'],
    ['bob', 'domain1', 'data1', 'read'],
  ] as const;
  return opsPerSecond(seconds, (i) => enforcer.enforce(...requests[i % requests.length]!));
}

/** A tiny deterministic PRNG so runs are comparable. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function rssOfPid(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : Number.NaN;
}

interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

async function startServiceProcess(
  env: NodeJS.ProcessEnv,
  port: number,
  timeoutMs: number,
): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'services/authorization/src/main.ts'],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await withTimeout(exited, 20_000, 'authorization service shutdown').catch(() => {
      child.kill('SIGKILL');
    });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authorization exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/readyz' }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on('error', () => resolve(false));
    });
    if (ok) return { child, port, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('authorization service did not become ready');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A bounded closed loop of keep-alive requests at `concurrency`; latencies in ms. */
async function httpLoop(
  port: number,
  token: string,
  bodies: readonly string[],
  requests: number,
  concurrency: number,
): Promise<{ latencies: number[]; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  const one = (body: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/internal/v1/authz/check',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-context-token': token,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
            else resolve(Number(process.hrtime.bigint() - started) / 1e6);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        latencies.push(await one(bodies[i % bodies.length]!));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, seconds };
}

export async function runAuthzCheckBench(
  stack: BenchStack,
  o: AuthzBenchOptions = authzOptionsFromEnv(),
): Promise<AuthzBenchResult> {
  const cleanup = new Cleanup();
  try {
    const db = await createTestDatabase(stack.databaseAdminUrl, 'bench_authz');
    cleanup.add(`drop ${db.name}`, () => db.drop());
    const database = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: AUTHORIZATION_MIGRATIONS,
    };
    await migrateServiceDatabase(database);
    console.error(
      `[bench] authz: filling ${o.tenants} tenants x ${o.usersPerTenant} users x ` +
        `${o.rolesPerTenant} roles x ${o.permissionsPerRole} permissions`,
    );
    const fillSeconds = await fill(adminUrlFor(stack.databaseAdminUrl, db.name), o);
    const dataSource = await openServiceDataSource({ ...database, poolSize: 8 });
    cleanup.add('close pool', () => dataSource.destroy());

    const casbinExampleOpsPerSecond = await casbinExampleBaseline(o.seconds);
    console.error(`[bench] casbin example enforce: ${fmtRate(casbinExampleOpsPerSecond)} ops/s`);

    const engine = new PolicyEngine({
      dataSource,
      cacheSize: o.cacheSize,
      ttlMs: 60 * 60_000,
      pollIntervalMs: 0,
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const hot = Math.min(o.cacheSize, o.tenants);
    const loadTimes: number[] = [];
    for (let t = 1; t <= hot; t += 1) {
      const started = performance.now();
      await engine.policyOf(tenantId(t));
      loadTimes.push(performance.now() - started);
    }
    loadTimes.sort((x, y) => x - y);
    global.gc?.();
    const heapPerTenantKb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / hot;
    const first = await engine.policyOf(tenantId(1));
    const policyLines =
      (await first.enforcer.getPolicy()).length + (await first.enforcer.getGroupingPolicy()).length;

    const permissionCount = o.permissionsPerRole * 2;
    const random = prng(42);
    const warmOpsPerSecond = await opsPerSecond(o.seconds, () =>
      engine.allows(
        tenantId(1 + Math.floor(random() * hot)),
        { type: 'user', id: userId(Math.floor(random() * o.usersPerTenant)) },
        permissionOf(Math.floor(random() * permissionCount)),
      ),
    );
    const casbinEnforceOnBenchTenantOpsPerSecond = await opsPerSecond(o.seconds, () =>
      first.enforce(
        { type: 'user', id: userId(Math.floor(random() * o.usersPerTenant)) },
        permissionOf(Math.floor(random() * permissionCount)),
      ),
    );
    const loadsBefore = engine.stats.loads;
    let uniformOps = 0;
    const uniformOpsPerSecond = await opsPerSecond(o.seconds, async () => {
      uniformOps += 1;
      return engine.allows(
        tenantId(1 + Math.floor(random() * o.tenants)),
        { type: 'user', id: userId(Math.floor(random() * o.usersPerTenant)) },
        permissionOf(Math.floor(random() * permissionCount)),
      );
    });
    const uniformHitRate = 1 - (engine.stats.loads - loadsBefore) / uniformOps;
    const benchRssMb = mb(process.memoryUsage().rss);
    console.error(
      `[bench] in-process: ${fmtRate(warmOpsPerSecond)} checks/s warm, ` +
        `${fmtRate(uniformOpsPerSecond)} uniform (hit rate ${(uniformHitRate * 100).toFixed(1)}%)`,
    );

    // The real service in its own process.
    const gatewayKeys = generateContextTokenKeyPair();
    const port = 41000 + Math.floor(Math.random() * 2000);
    const service = await startServiceProcess(
      {
        ...process.env,
        PORT: String(port),
        AUTHORIZATION_DATABASE_URL: db.appUrl,
        AUTHORIZATION_DATABASE_OWNER_URL: db.ownerUrl,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        CONTEXT_TOKEN_PUBLIC_KEYS: gatewayKeys.publicKeyPem,
        AUTHZ_ENFORCER_CACHE_SIZE: String(o.cacheSize),
        KAFKA_CONSUMER_GROUP_PREFIX: `bench-authz-${randomBytes(3).toString('hex')}`,
        TELEMETRY_EXPORTER: 'none',
        LOG_LEVEL: 'warn',
      },
      port,
      120_000,
    );
    cleanup.add('stop the authorization service', () => service.stop());
    const token = await signContextToken(
      { tenantId: 'platform', actor: { type: 'service', id: 'gateway' }, requestId: 'bench' },
      gatewayKeys.signingKey,
      { ttlSeconds: 300, audience: 'authorization' },
    );
    const bodies = Array.from({ length: 4096 }, () =>
      JSON.stringify({
        tenantId: tenantId(1 + Math.floor(random() * hot)),
        subject: { type: 'user', id: userId(Math.floor(random() * o.usersPerTenant)) },
        permissions: [permissionOf(Math.floor(random() * permissionCount))],
      }),
    );
    // Warm the service's cache with the hot tenants (as steady traffic would), then measure.
    const warmBodies = Array.from({ length: hot }, (_, i) =>
      JSON.stringify({
        tenantId: tenantId(i + 1),
        subject: { type: 'user', id: userId(0) },
        permissions: [permissionOf(0)],
      }),
    );
    await httpLoop(port, token, warmBodies, hot, 4);
    // Every measured body once, so each (tenant, subject) memo is built before measuring.
    await httpLoop(port, token, bodies, bodies.length, 4);
    const http: HttpRun[] = [];
    for (const concurrency of o.httpConcurrency) {
      const { latencies, seconds } = await httpLoop(
        port,
        token,
        bodies,
        o.httpRequests,
        concurrency,
      );
      latencies.sort((x, y) => x - y);
      http.push({
        concurrency,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1] ?? Number.NaN,
        rps: latencies.length / seconds,
      });
    }
    const serviceRssMb = mb(rssOfPid(service.child.pid!));

    return {
      options: o,
      fillSeconds,
      policyLines,
      casbinExampleOpsPerSecond,
      warmOpsPerSecond,
      ratio: warmOpsPerSecond / casbinExampleOpsPerSecond,
      casbinEnforceOnBenchTenantOpsPerSecond,
      uniformOpsPerSecond,
      uniformHitRate,
      loadMs: { p50: percentile(loadTimes, 50), p99: percentile(loadTimes, 99) },
      benchRssMb,
      heapPerTenantKb,
      http,
      serviceRssMb,
    };
  } finally {
    await cleanup.run();
  }
}

export function authzTable(r: AuthzBenchResult): string {
  const o = r.options;
  const ms = (v: number): string => `${v.toFixed(3)} ms`;
  return [
    `authz check: ${o.tenants} tenants x ${o.usersPerTenant} users x ${o.rolesPerTenant} roles x ` +
      `${o.permissionsPerRole} permissions (${r.policyLines} policy lines per tenant), ` +
      `cache ${o.cacheSize} tenants, filled in ${r.fillSeconds.toFixed(1)} s`,
    table(
      ['in-process', 'ops/s', 'ratio vs casbin example'],
      [
        ['casbin enforce, 6-rule example (baseline)', fmtRate(r.casbinExampleOpsPerSecond), '1.00'],
        ['PolicyEngine.allows, cached tenants', fmtRate(r.warmOpsPerSecond), fmtRatio(r.ratio)],
        [
          'casbin enforce on one bench tenant',
          fmtRate(r.casbinEnforceOnBenchTenantOpsPerSecond),
          fmtRatio(r.casbinEnforceOnBenchTenantOpsPerSecond / r.casbinExampleOpsPerSecond),
        ],
        [
          `PolicyEngine.allows, uniform over all tenants (hit ${(r.uniformHitRate * 100).toFixed(1)}%)`,
          fmtRate(r.uniformOpsPerSecond),
          fmtRatio(r.uniformOpsPerSecond / r.casbinExampleOpsPerSecond),
        ],
      ],
    ),
    table(
      ['tenant load from PostgreSQL', 'p50', 'p99'],
      [['filtered load + enforcer build', ms(r.loadMs.p50), ms(r.loadMs.p99)]],
    ),
    table(
      ['HTTP POST /internal/v1/authz/check', 'p50', 'p99', 'max', 'req/s'],
      r.http.map((run) => [
        `keep-alive, concurrency ${run.concurrency}, ${o.httpRequests} requests`,
        ms(run.p50),
        ms(run.p99),
        ms(run.max),
        fmtRate(run.rps),
      ]),
    ),
    table(
      ['resident memory', 'MB'],
      [
        [`bench process (engine with ${o.cacheSize} tenants loaded)`, String(r.benchRssMb)],
        ['authorization service process after the HTTP run', String(r.serviceRssMb)],
        ['heap per loaded tenant (KB)', r.heapPerTenantKb.toFixed(1)],
      ],
    ),
  ].join('\n\n');
}

async function main(): Promise<void> {
  const options = authzOptionsFromEnv();
  const stack = await acquireStack();
  try {
    const result = await withTimeout(
      runAuthzCheckBench(stack, options),
      options.timeoutMs,
      'authz check benchmark',
    );
    console.log(authzTable(result));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
