// Orchestrates the local stack of one profile: start (idempotent), stop, status.
import fs from 'node:fs';
import path from 'node:path';
import { DATABASES, REPO_ROOT, SERVICES, profileConfig, START_TIMEOUT_S } from './stack-config.mjs';
import { ensureArtifacts } from './fetch.mjs';
import { log, logFile, runningPid, startDetached, stopProcess, waitUntil } from './proc.mjs';
import {
  adminUrl,
  provision,
  redact,
  roleUrl,
  startPostgres,
  stopPostgres,
  waitPostgres,
} from './postgres.mjs';
import { brokers, kafkaAnswers, startKafka, stopKafka, waitKafka } from './kafka.mjs';
import {
  ccompatUrl,
  ensureCompatibility,
  registryUrl,
  startRegistry,
  stopRegistry,
  waitRegistry,
} from './registry.mjs';
import { startZipkin, stopZipkin, waitZipkin, zipkinUrl } from './zipkin.mjs';
import { redisAnswers, redisUrl, startRedis, stopRedis, waitRedis } from './redis.mjs';
import { isOptional, optionalWarning, stopAfterFailure } from './optional.mjs';

export const COMPONENTS = ['redis', 'postgres', 'kafka', 'registry', 'zipkin', 'services'];

function stateFile(cfg) {
  return path.join(cfg.dir, 'stack.json');
}

/** Addresses of a profile's stack, as written by the last successful start. */
export function readState(profile = 'dev') {
  try {
    return JSON.parse(fs.readFileSync(stateFile(profileConfig(profile)), 'utf8'));
  } catch {
    return null;
  }
}

function addresses(cfg, enabled) {
  return {
    profile: cfg.profile,
    kafkaBrokers: brokers(cfg),
    schemaRegistryUrl: ccompatUrl(cfg),
    registryUrl: registryUrl(cfg),
    databaseAdminUrl: adminUrl(cfg),
    databases: Object.fromEntries(
      DATABASES.map((d) => [
        d.name,
        {
          ownerUrl: roleUrl(cfg, d.owner, d.name),
          ...(d.app ? { appUrl: roleUrl(cfg, d.app, d.name) } : {}),
        },
      ]),
    ),
    zipkinUrl: enabled.has('zipkin') ? zipkinUrl(cfg) : null,
    redisUrl: enabled.has('redis') ? redisUrl(cfg) : null,
    services: enabled.has('services')
      ? SERVICES.map((svc) => ({
          name: svc.name,
          url: `http://127.0.0.1:${cfg.ports[`${svc.name.toUpperCase()}_PORT`]}`,
        }))
      : [],
    externalDatabase: Boolean(cfg.externalDatabaseAdminUrl),
  };
}

const fmt = (s) => `${s.toFixed(1)}s`;

/**
 * Fetches the jars; when only an optional component's fetch fails, reports it and fetches the
 * others. Returns the names of optional components whose jars are missing.
 */
function fetchJars(enabled) {
  const jarOf = { kafka: 'kafka', registry: 'apicurio', zipkin: 'zipkin' };
  const wanted = Object.keys(jarOf).filter((c) => enabled.has(c));
  try {
    ensureArtifacts(wanted.map((c) => jarOf[c]));
    return {};
  } catch (e) {
    const optional = wanted.filter(isOptional);
    if (optional.length === 0) throw e;
    ensureArtifacts(wanted.filter((c) => !isOptional(c)).map((c) => jarOf[c]));
    return Object.fromEntries(optional.map((c) => [c, `fetching its jar failed: ${e.message}`]));
  }
}

/**
 * Starts the profile's stack; pieces already running (pid file + live process) are left alone.
 * An optional component (Zipkin) that fails is reported and the rest carries on. When a required
 * one fails, stops what this call started (never what ran before it) and rethrows.
 */
export async function start({ profile = 'dev', without = [] } = {}) {
  const t0 = Date.now();
  const cfg = profileConfig(profile);
  const enabled = new Set(COMPONENTS.filter((c) => !without.includes(c)));
  fs.mkdirSync(cfg.dir, { recursive: true });
  log(
    `profile ${profile}: ${[...enabled].join(', ')} (state in ${path.relative(process.cwd(), cfg.dir) || cfg.dir})`,
  );

  // Optional components that did not come up, with the reason.
  const unhealthy = fetchJars(enabled);

  const startedNow = [];
  const timings = {};
  const track = (name, res) => {
    if (res.started) startedNow.push(name);
    return { ...res, at: Date.now() };
  };
  // Seconds from spawning a piece to its first good answer (null when it was already running).
  const took = (res) => (res.started ? (Date.now() - res.at) / 1000 : null);
  try {
    // Redis first: the quickest, and a machine without redis-server fails here at once, with
    // the install command, before anything slow has started.
    if (enabled.has('redis')) {
      const redisRes = track('redis', await startRedis(cfg));
      if (redisRes.started) {
        await waitRedis(cfg, redisRes.pid);
        timings.redis = took(redisRes);
      }
    }
    // Independent pieces next, in parallel: PostgreSQL, Kafka, Zipkin.
    const pgRes =
      enabled.has('postgres') || enabled.has('registry')
        ? track('postgres', await startPostgres(cfg))
        : null;
    const kafkaRes = enabled.has('kafka') ? track('kafka', await startKafka(cfg)) : null;
    const zipkinRes = await spawnOptionalZipkin(cfg, enabled, unhealthy, track);
    // Never rejects: a failure is recorded in `unhealthy`.
    const zipkinWait = zipkinRes
      ? waitOptionalZipkin(cfg, zipkinRes, unhealthy).then(() => {
          if (!unhealthy.zipkin) timings.zipkin = took(zipkinRes);
        })
      : Promise.resolve();

    const waits = [];
    if (kafkaRes)
      waits.push(waitKafka(cfg, kafkaRes.pid).then(() => (timings.kafka = took(kafkaRes))));

    if (pgRes) {
      await waitPostgres(cfg, pgRes.pid);
      timings.postgres = took(pgRes);
      await provision(cfg);
    }
    if (enabled.has('registry')) {
      const regRes = track('registry', await startRegistry(cfg));
      waits.push(
        waitRegistry(cfg, regRes.pid).then(async () => {
          timings.registry = took(regRes);
          await ensureCompatibility(cfg);
        }),
      );
    }
    const results = await Promise.allSettled(waits);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length)
      throw new Error(failed.map((r) => r.reason?.message ?? String(r.reason)).join('\n\n'));

    await zipkinWait;
    // Only the unhealthy optional piece this run launched; everything healthy keeps running.
    for (const name of stopAfterFailure({ failed: Object.keys(unhealthy), startedNow })) {
      await STOP_OPTIONAL[name](cfg);
      startedNow.splice(startedNow.indexOf(name), 1);
    }
    const healthy = new Set([...enabled].filter((c) => !unhealthy[c]));
    const addr = addresses(cfg, healthy);
    if (enabled.has('services')) await startServices(cfg, addr);

    for (const [name, s] of Object.entries(timings)) {
      if (s !== null && s !== undefined) log(`${name} answered ${fmt(s)} after its start`);
    }
    const lastStart = {
      at: new Date().toISOString(),
      started: startedNow,
      secondsToAnswer: timings,
      unhealthy,
    };
    fs.writeFileSync(stateFile(cfg), `${JSON.stringify({ ...addr, lastStart }, null, 2)}\n`);
    printAddresses(addr, healthy);
    for (const [name, reason] of Object.entries(unhealthy))
      log(`WARNING: ${optionalWarning(name, relativeLog(cfg, name), reason)}`);
    log(
      `stack ${profile} ready in ${fmt((Date.now() - t0) / 1000)}` +
        (Object.keys(unhealthy).length
          ? ` without ${Object.keys(unhealthy).join(', ')} (optional)`
          : ''),
    );
    return addr;
  } catch (e) {
    // A required component failed (the optional ones never throw here).
    const stopping = stopAfterFailure({ failed: ['required'], startedNow });
    if (stopping.length) {
      log(`start failed; stopping what this run started: ${stopping.join(', ')}`);
      await stop({ profile, only: stopping }).catch(() => {});
    }
    throw e;
  }
}

const relativeLog = (cfg, name) => path.relative(process.cwd(), logFile(cfg, name));

const STOP_OPTIONAL = { zipkin: stopZipkin };

// An OOM'd or wedged Zipkin that was already running gets a short look, not the full start-up wait.
const ZIPKIN_ALREADY_RUNNING_WAIT_S = 15;

/** Spawns Zipkin when enabled and its jar is there; null (reason in `unhealthy`) when not. */
async function spawnOptionalZipkin(cfg, enabled, unhealthy, track) {
  if (!enabled.has('zipkin') || unhealthy.zipkin) return null;
  try {
    return track('zipkin', await startZipkin(cfg));
  } catch (e) {
    unhealthy.zipkin = e?.message ?? String(e);
    return null;
  }
}

async function waitOptionalZipkin(cfg, res, unhealthy) {
  try {
    await waitZipkin(cfg, res.pid, res.started ? undefined : ZIPKIN_ALREADY_RUNNING_WAIT_S);
  } catch (e) {
    unhealthy.zipkin = e?.message ?? String(e);
  }
}

function printAddresses(addr, enabled) {
  const lines = [
    '',
    `  Stack "${addr.profile}" is up:`,
    `    PostgreSQL (admin)  ${redact(addr.databaseAdminUrl)}${addr.externalDatabase ? '  (external)' : ''}`,
  ];
  for (const [db, urls] of Object.entries(addr.databases)) {
    lines.push(
      `      ${db.padEnd(14)} owner ${redact(urls.ownerUrl)}${urls.appUrl ? `  app ${redact(urls.appUrl)}` : ''}`,
    );
  }
  if (enabled.has('kafka')) lines.push(`    Kafka               ${addr.kafkaBrokers.join(',')}`);
  if (enabled.has('registry'))
    lines.push(
      `    Schema registry     ${addr.schemaRegistryUrl}  (Apicurio UI/API ${addr.registryUrl})`,
    );
  if (addr.zipkinUrl) lines.push(`    Zipkin              ${addr.zipkinUrl}`);
  if (addr.redisUrl) lines.push(`    Redis               ${addr.redisUrl}`);
  for (const svc of addr.services ?? []) lines.push(`    ${svc.name.padEnd(20)}${svc.url}`);
  lines.push(
    '',
    '  Environment for tests and services:',
    `    KAFKA_BROKERS=${addr.kafkaBrokers.join(',')}`,
    `    SCHEMA_REGISTRY_URL=${addr.schemaRegistryUrl}`,
    `    DATABASE_ADMIN_URL=${addr.databaseAdminUrl}`,
    ...(addr.redisUrl ? [`    REDIS_URL=${addr.redisUrl}`] : []),
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Hook for the platform's own services (SERVICES in stack-config.mjs, empty for now). Each entry:
 * { name, cmd: [bin, ...args], env?: (addr) => object, health?: url, cwd? }.
 */
async function startServices(cfg, addr) {
  for (const svc of SERVICES) {
    const running = runningPid(cfg, `svc-${svc.name}`);
    if (running) {
      log(`${svc.name} already running (pid ${running})`);
      continue;
    }
    const [bin, ...args] = svc.cmd;
    const env = { ...process.env, ...(svc.env ? svc.env(addr, cfg.ports) : {}) };
    const pid = startDetached(cfg, `svc-${svc.name}`, bin, args, {
      cwd: svc.cwd ?? REPO_ROOT,
      env,
      marker: args.join(' '),
    });
    log(`${svc.name} starting (pid ${pid})`);
    if (svc.health) {
      const url = typeof svc.health === 'function' ? svc.health(cfg.ports) : svc.health;
      await waitUntil(cfg, `svc-${svc.name}`, async () => (await fetch(url)).ok, {
        timeoutS: START_TIMEOUT_S.registry,
        pid,
      });
    }
  }
}

/** Stops what this profile's pid files name, services first, PostgreSQL last. */
export async function stop({ profile = 'dev', only } = {}) {
  const cfg = profileConfig(profile);
  let any = false;
  const want = (c) => !only || only.includes(c);
  if (want('services')) {
    for (const svc of [...SERVICES].reverse())
      any = (await stopProcess(cfg, `svc-${svc.name}`)) || any;
  }
  // The registry before PostgreSQL (it holds connections), Kafka and Zipkin in parallel.
  const first = await Promise.all([
    want('zipkin') ? stopZipkin(cfg) : false,
    want('registry') ? stopRegistry(cfg) : false,
    want('kafka') ? stopKafka(cfg) : false,
  ]);
  any = first.some(Boolean) || any;
  if (want('postgres')) any = (await stopPostgres(cfg)) || any;
  // Only a Redis this profile started has a pid file; a reused one is never touched.
  if (want('redis')) any = (await stopRedis(cfg)) || any;
  log(any ? `stack ${profile} stopped` : `nothing of stack ${profile} was running`);
  return any;
}

async function probe(fn) {
  try {
    return (await Promise.race([
      fn(),
      new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 3000)),
    ]))
      ? 'answers'
      : 'does not answer';
  } catch (e) {
    return `does not answer (${e.message})`;
  }
}

export async function status({ profile = 'dev' } = {}) {
  const cfg = profileConfig(profile);
  const state = readState(profile);
  const rows = [];
  const probes = {
    postgres: async () => {
      const pg = (await import('pg')).default;
      const c = new pg.Client({
        connectionString: state?.databaseAdminUrl ?? adminUrl(cfg),
        connectionTimeoutMillis: 2000,
      });
      c.on('error', () => {});
      try {
        await c.connect();
        return true;
      } finally {
        await c.end().catch(() => {});
      }
    },
    kafka: () => kafkaAnswers(state?.kafkaBrokers ?? brokers(cfg)),
    registry: async () =>
      (await fetch(`${state?.schemaRegistryUrl ?? ccompatUrl(cfg)}/subjects`)).ok,
    zipkin: async () => (await fetch(`${state?.zipkinUrl ?? zipkinUrl(cfg)}/health`)).ok,
    redis: () => redisAnswers(cfg.ports.REDIS_PORT),
  };
  const where = {
    postgres: redact(state?.databaseAdminUrl ?? adminUrl(cfg)),
    kafka: (state?.kafkaBrokers ?? brokers(cfg)).join(','),
    registry: state?.schemaRegistryUrl ?? ccompatUrl(cfg),
    zipkin: state?.zipkinUrl ?? zipkinUrl(cfg),
    redis: redisUrl(cfg),
  };
  let running = 0;
  for (const c of COMPONENTS.filter((name) => name !== 'services')) {
    const pid = runningPid(cfg, c);
    if (c === 'postgres' && cfg.externalDatabaseAdminUrl) {
      rows.push([c, 'external', where[c], await probe(probes[c])]);
      continue;
    }
    if (c === 'redis' && !pid) {
      // A Redis this stack did not start: used when it answers, never stopped.
      const external = Boolean(cfg.externalRedisUrl);
      const health = external ? '' : await probe(probes.redis);
      rows.push([
        c,
        external ? 'external' : health === 'answers' ? 'not ours' : 'stopped',
        where[c],
        health,
      ]);
      continue;
    }
    if (pid) running++;
    const health = pid ? await probe(probes[c]) : '';
    const lastFailure = state?.lastStart?.unhealthy?.[c];
    rows.push([
      c,
      pid ? `running (pid ${pid})` : 'stopped',
      where[c],
      health === 'answers' || !lastFailure
        ? health
        : `${health ? `${health}; ` : ''}UNHEALTHY at last start${isOptional(c) ? ' (optional)' : ''}`,
    ]);
  }
  for (const svc of SERVICES) {
    const pid = runningPid(cfg, `svc-${svc.name}`);
    if (pid) running++;
    const url = typeof svc.health === 'function' ? svc.health(cfg.ports) : (svc.health ?? '');
    rows.push([svc.name, pid ? `running (pid ${pid})` : 'stopped', url, '']);
  }
  process.stdout.write(`Stack "${profile}" (${cfg.dir}):\n`);
  for (const r of rows)
    process.stdout.write(`  ${r[0].padEnd(13)} ${r[1].padEnd(22)} ${r[2].padEnd(48)} ${r[3]}\n`);
  process.stdout.write(`  logs: ${path.dirname(logFile(cfg, 'x'))}/\n`);
  for (const [name, reason] of Object.entries(state?.lastStart?.unhealthy ?? {})) {
    if (runningPid(cfg, name) && (await probe(probes[name])) === 'answers') continue;
    process.stdout.write(`  WARNING: ${optionalWarning(name, relativeLog(cfg, name), reason)}\n`);
  }
  return running;
}
