// Apicurio Registry 3 (Confluent-compatible API under /apis/ccompat/v7), SQL storage in the
// PostgreSQL `registry` database so schemas survive restarts.
import fs from 'node:fs';
import path from 'node:path';
import {
  JVM_OPTS,
  MIN_JAVA,
  REGISTRY_COMPATIBILITY,
  START_TIMEOUT_S,
  passwordFor,
  DATABASES,
} from './stack-config.mjs';
import { artifactPaths } from './fetch.mjs';
import { javaFor } from './java.mjs';
import { serverAddress } from './postgres.mjs';
import {
  assertPortsFree,
  log,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './proc.mjs';

const NAME = 'registry';

export function registryUrl(cfg) {
  return `http://127.0.0.1:${cfg.ports.REGISTRY_PORT}`;
}

export function ccompatUrl(cfg) {
  return `${registryUrl(cfg)}/apis/ccompat/v7`;
}

export async function startRegistry(cfg) {
  const running = runningPid(cfg, NAME);
  if (running) {
    log(`schema registry already running (pid ${running})`);
    return { pid: running, started: false };
  }
  await assertPortsFree('the schema registry', {
    REGISTRY_PORT: cfg.ports.REGISTRY_PORT,
    REGISTRY_MANAGEMENT_PORT: cfg.ports.REGISTRY_MANAGEMENT_PORT,
  });
  const { apicurioDir } = artifactPaths();
  const jar = path.join(apicurioDir, 'quarkus-run.jar');
  const db = DATABASES.find((d) => d.name === 'registry');
  const { host, port } = serverAddress(cfg);
  const { bin: java, major } = javaFor(MIN_JAVA.registry, 'Apicurio Registry');
  // Its own working folder: Quarkus reads ./config/application.properties and ./.env from there.
  const home = path.join(cfg.dir, 'registry');
  fs.mkdirSync(home, { recursive: true });
  const props = {
    'quarkus.http.host': '127.0.0.1',
    'quarkus.http.port': cfg.ports.REGISTRY_PORT,
    // Quarkus' management interface (health, metrics) would listen on 0.0.0.0:9000 for every
    // profile; keep it on loopback and on a port of the profile.
    'quarkus.management.host': '127.0.0.1',
    'quarkus.management.port': cfg.ports.REGISTRY_MANAGEMENT_PORT,
    'quarkus.log.console.format': '%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{2.}] (%t) %s%e%n',
    'quarkus.http.access-log.enabled': 'false',
    'apicurio.storage.kind': 'sql',
    'apicurio.storage.sql.kind': 'postgresql',
    'apicurio.datasource.url': `jdbc:postgresql://${host}:${port}/${db.name}`,
    'apicurio.datasource.username': db.owner,
    'apicurio.datasource.password': passwordFor(db.owner),
    'apicurio.datasource.jdbc.initial-size': 2,
    'apicurio.datasource.jdbc.min-size': 2,
    'apicurio.datasource.jdbc.max-size': 10,
    'apicurio.storage.snapshot.location': home,
    // Default global rules; the compatibility rule is also stored through the API after start.
    'apicurio.rules.global.compatibility': REGISTRY_COMPATIBILITY,
    'apicurio.rules.global.validity': 'FULL',
  };
  const args = [
    ...JVM_OPTS.registry,
    '-Djava.awt.headless=true',
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
    '-jar',
    jar,
  ];
  const pid = startDetached(cfg, NAME, java, args, { cwd: home, marker: jar });
  log(`schema registry (Apicurio) starting on ${registryUrl(cfg)} (Java ${major}, pid ${pid})`);
  return { pid, started: true };
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return res;
}

export async function waitRegistry(cfg, pid) {
  return waitUntil(cfg, NAME, async () => (await get(`${ccompatUrl(cfg)}/subjects`)).ok, {
    timeoutS: START_TIMEOUT_S.registry,
    pid,
    intervalMs: 1000,
  });
}

/** Makes sure the global compatibility rule is stored (and so enforced on every subject). */
export async function ensureCompatibility(cfg) {
  const res = await get(`${ccompatUrl(cfg)}/config`);
  const body = res.ok ? await res.json() : {};
  const current = body.compatibilityLevel ?? body.compatibility;
  if (current === REGISTRY_COMPATIBILITY) {
    log(`schema registry global compatibility: ${current}`);
    return;
  }
  const put = await fetch(`${ccompatUrl(cfg)}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: REGISTRY_COMPATIBILITY }),
    signal: AbortSignal.timeout(10000),
  });
  if (!put.ok)
    throw new Error(`could not set registry compatibility: HTTP ${put.status} ${await put.text()}`);
  log(
    `schema registry global compatibility set to ${REGISTRY_COMPATIBILITY} (was ${current ?? 'unset'})`,
  );
}

export async function stopRegistry(cfg) {
  return stopProcess(cfg, NAME, { signal: 'SIGTERM', timeoutMs: 30000 });
}
