// Redis for the gateway's rate limiter and identity's login limiter. Debian machines often run
// one already (the `redis-server` system service): a Redis that answers on the profile's port is
// used as it is and never stopped. Otherwise redis-server is started without persistence (the
// buckets are throw-away) and tracked by its pid file like the other pieces.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { START_TIMEOUT_S } from './stack-config.mjs';
import { log, runningPid, startDetached, stopProcess, waitUntil } from './proc.mjs';

const NAME = 'redis';
// redis-server rewrites its command line to "redis-server 127.0.0.1:<port>"; the binary name is
// in both forms, so it recognises our process before and after that.
const MARKER = 'redis-server';
export const INSTALL_HINT = 'apt-get install redis-server';
const CANDIDATES = [
  '/usr/bin/redis-server',
  '/usr/sbin/redis-server',
  '/usr/local/bin/redis-server',
];

export function redisUrl(cfg) {
  return cfg.externalRedisUrl ?? `redis://127.0.0.1:${cfg.ports.REDIS_PORT}`;
}

/** True when a Redis on 127.0.0.1:port answers PING (an auth error counts: it is a Redis). */
export function redisAnswers(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let reply = '';
    const done = (v) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(/^(\+PONG|-NOAUTH)/.test(reply));
    });
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
  });
}

/** The redis-server binary on PATH or in Debian's places, or null. */
export function findRedisServer(envPath = process.env.PATH ?? '') {
  const onPath = envPath
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'redis-server'));
  for (const file of [...onPath, ...CANDIDATES]) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* not there */
    }
  }
  return null;
}

/**
 * What `start` does about Redis (pure, for the tests):
 *   our pid file names a live redis-server  -> 'running' (ours: stop stops it)
 *   something answers PING on the port       -> 'reuse'   (not ours: never started, never stopped)
 *   nothing answers, redis-server installed  -> 'start'
 *   nothing answers, no redis-server         -> 'fail', naming the install command
 */
export function redisPlan({ port, ownPid, answers, binary }) {
  if (ownPid) return { action: 'running', pid: ownPid };
  if (answers) return { action: 'reuse' };
  if (binary) {
    return {
      action: 'start',
      binary,
      args: ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
    };
  }
  return {
    action: 'fail',
    message:
      `no Redis answers on 127.0.0.1:${port} and redis-server is not installed: ` +
      `${INSTALL_HINT} (or point the stack at a running one with PLATFORM_REDIS_PORT / PLATFORM_REDIS_URL)`,
  };
}

/**
 * Ensures a Redis for the profile. Returns { pid, started } like the other pieces; pid is null
 * when a Redis that is not ours (or an external PLATFORM_REDIS_URL) is used.
 */
export async function startRedis(cfg) {
  if (cfg.externalRedisUrl) {
    log(`Redis: external ${cfg.externalRedisUrl}`);
    return { pid: null, started: false };
  }
  const port = cfg.ports.REDIS_PORT;
  const ownPid = runningPid(cfg, NAME);
  const plan = redisPlan({
    port,
    ownPid,
    answers: ownPid ? true : await redisAnswers(port),
    binary: ownPid ? null : findRedisServer(),
  });
  switch (plan.action) {
    case 'running':
      log(`Redis already running (pid ${plan.pid})`);
      return { pid: plan.pid, started: false };
    case 'reuse':
      log(`Redis: one already answers on 127.0.0.1:${port}; using it (not started, not stopped)`);
      return { pid: null, started: false };
    case 'fail':
      throw new Error(`cannot start Redis: ${plan.message}`);
    default: {
      const dir = path.join(cfg.dir, 'redis');
      fs.mkdirSync(dir, { recursive: true });
      const pid = startDetached(cfg, NAME, plan.binary, [...plan.args, '--dir', dir], {
        cwd: dir,
        marker: MARKER,
      });
      log(`Redis starting on 127.0.0.1:${port} (pid ${pid})`);
      return { pid, started: true };
    }
  }
}

export async function waitRedis(cfg, pid) {
  return waitUntil(cfg, NAME, () => redisAnswers(cfg.ports.REDIS_PORT), {
    timeoutS: START_TIMEOUT_S.redis,
    pid,
    intervalMs: 200,
  });
}

/** Stops Redis only when this profile started it (a pid file exists only then). */
export async function stopRedis(cfg) {
  return stopProcess(cfg, NAME, { signal: 'SIGTERM', timeoutMs: 10000 });
}
