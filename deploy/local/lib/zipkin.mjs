// Zipkin server (exec jar), in-memory storage: traces of local runs, nothing kept. Optional: the
// stack starts without it when it fails (see optional.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { JVM_OPTS, MIN_JAVA, START_TIMEOUT_S, ZIPKIN_MAX_SPANS } from './stack-config.mjs';
import { artifactPaths } from './fetch.mjs';
import { javaFor } from './java.mjs';
import {
  assertPortsFree,
  log,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './proc.mjs';

const NAME = 'zipkin';

export function zipkinUrl(cfg) {
  return `http://127.0.0.1:${cfg.ports.ZIPKIN_PORT}`;
}

export async function startZipkin(cfg) {
  const running = runningPid(cfg, NAME);
  if (running) {
    log(`Zipkin already running (pid ${running})`);
    return { pid: running, started: false };
  }
  await assertPortsFree('Zipkin', { ZIPKIN_PORT: cfg.ports.ZIPKIN_PORT });
  const { zipkinJar } = artifactPaths();
  const { bin: java, major } = javaFor(MIN_JAVA.zipkin, 'Zipkin');
  const home = path.join(cfg.dir, 'zipkin');
  fs.mkdirSync(home, { recursive: true });
  const env = {
    ...process.env,
    STORAGE_TYPE: 'mem',
    // Oldest traces are dropped beyond this, so a load test cannot fill the heap (JVM_OPTS.zipkin).
    MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS),
    QUERY_PORT: String(cfg.ports.ZIPKIN_PORT),
    COLLECTOR_SCRIBE_ENABLED: 'false',
    SELF_TRACING_ENABLED: 'false',
  };
  // Do not let a KAFKA_BOOTSTRAP_SERVERS / RABBIT_ADDRESSES in the caller's env turn collectors on.
  for (const k of ['KAFKA_BOOTSTRAP_SERVERS', 'RABBIT_ADDRESSES', 'RABBIT_URI', 'ACTIVEMQ_URL'])
    delete env[k];
  const args = [
    ...JVM_OPTS.zipkin,
    '-Djava.awt.headless=true',
    '-jar',
    zipkinJar,
    `--armeria.ports[0].ip=127.0.0.1`,
    `--armeria.ports[0].port=${cfg.ports.ZIPKIN_PORT}`,
    '--armeria.ports[0].protocols[0]=http',
  ];
  const pid = startDetached(cfg, NAME, java, args, { cwd: home, env, marker: zipkinJar });
  log(`Zipkin starting on ${zipkinUrl(cfg)} (Java ${major}, pid ${pid})`);
  return { pid, started: true };
}

export async function waitZipkin(cfg, pid, timeoutS = START_TIMEOUT_S.zipkin) {
  return waitUntil(
    cfg,
    NAME,
    async () => (await fetch(`${zipkinUrl(cfg)}/health`, { signal: AbortSignal.timeout(3000) })).ok,
    { timeoutS, pid, intervalMs: 1000 },
  );
}

export async function stopZipkin(cfg) {
  return stopProcess(cfg, NAME, { signal: 'SIGTERM', timeoutMs: 20000 });
}
