// Detached processes with pid files: start, liveness, stop. Only processes whose pid file we
// wrote are ever signalled, and only when their command line still matches what we started.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function log(msg) {
  process.stdout.write(`[platform] ${msg}\n`);
}

function pidFile(cfg, name) {
  return path.join(cfg.pidDir, `${name}.pid`);
}

export function logFile(cfg, name) {
  return path.join(cfg.logDir, `${name}.log`);
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return null;
  }
}

export function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped) counts as dead.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    /* no /proc: trust kill(0) */
  }
  return true;
}

/** { pid, marker } from the pid file, or null. */
export function readPid(cfg, name) {
  try {
    const [pid, ...marker] = fs.readFileSync(pidFile(cfg, name), 'utf8').trim().split('\n');
    return { pid: Number(pid), marker: marker.join('\n') };
  } catch {
    return null;
  }
}

export function writePid(cfg, name, pid, marker) {
  fs.mkdirSync(cfg.pidDir, { recursive: true });
  fs.writeFileSync(pidFile(cfg, name), `${pid}\n${marker}\n`);
}

export function removePid(cfg, name) {
  fs.rmSync(pidFile(cfg, name), { force: true });
}

/** The pid of our running process `name`, or null (stale pid files are removed). */
export function runningPid(cfg, name) {
  const rec = readPid(cfg, name);
  if (!rec) return null;
  const cl = cmdline(rec.pid);
  if (isAlive(rec.pid) && (cl === null || !rec.marker || cl.includes(rec.marker))) return rec.pid;
  removePid(cfg, name);
  return null;
}

function rotate(file) {
  try {
    if (fs.statSync(file).size > 20 * 1024 * 1024) fs.renameSync(file, `${file}.1`);
  } catch {
    /* absent */
  }
}

/**
 * Starts `cmd args` detached (own session, survives this process), stdout+stderr appended to the
 * component's log file, and records its pid. `marker` is a string of its command line used to
 * recognise it later (guards against pid reuse).
 */
export function startDetached(cfg, name, cmd, args, { cwd, env, uid, gid, marker } = {}) {
  fs.mkdirSync(cfg.logDir, { recursive: true });
  const file = logFile(cfg, name);
  rotate(file);
  const fd = fs.openSync(file, 'a');
  fs.writeSync(
    fd,
    `\n==== ${new Date().toISOString()} starting ${name}: ${cmd} ${args.join(' ')}\n`,
  );
  const opts = { cwd, env: env ?? process.env, detached: true, stdio: ['ignore', fd, fd] };
  if (uid !== undefined) Object.assign(opts, { uid, gid });
  const child = spawn(cmd, args, opts);
  fs.closeSync(fd);
  let spawnError = null;
  child.on('error', (e) => {
    spawnError = e;
  });
  child.unref();
  if (!child.pid)
    throw new Error(`could not start ${name} (${cmd}): ${spawnError?.message ?? 'no pid'}`);
  writePid(cfg, name, child.pid, marker ?? '');
  return child.pid;
}

/** SIGTERM (or `signal`), wait up to `timeoutMs`, then SIGKILL. Removes the pid file. */
export async function stopProcess(cfg, name, { signal = 'SIGTERM', timeoutMs = 30000 } = {}) {
  const pid = runningPid(cfg, name);
  if (!pid) {
    removePid(cfg, name);
    return false;
  }
  log(`stopping ${name} (pid ${pid}, ${signal})`);
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    log(`${name} did not stop within ${timeoutMs / 1000}s, sending SIGKILL`);
    try {
      // The process group too: it was started detached as a group leader.
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    while (isAlive(pid)) await sleep(100);
  }
  removePid(cfg, name);
  return true;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (v) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Refuses to start `name` when one of its ports is taken: otherwise the readiness probe could
 * talk to someone else's server (another profile, another checkout) and report success.
 */
export async function assertPortsFree(name, ports) {
  for (const [label, port] of Object.entries(ports)) {
    if (await portAnswers(port)) {
      throw new Error(
        `cannot start ${name}: 127.0.0.1:${port} (${label}) is already in use by another process ` +
          '(another profile or checkout?). Stop it, or pick other ports with PLATFORM_<PROFILE>_<KEY> env vars.',
      );
    }
  }
}

export function tail(file, lines = 25) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it resolves truthy. Fails early when the process died, and on timeout,
 * with the end of the log file.
 */
export async function waitUntil(cfg, name, probe, { timeoutS, pid, intervalMs = 500 }) {
  const started = Date.now();
  const deadline = started + timeoutS * 1000;
  let lastError;
  for (;;) {
    try {
      // Success counts only while our process is still alive (it may have failed to bind).
      if ((await probe()) && (!pid || isAlive(pid))) return (Date.now() - started) / 1000;
    } catch (e) {
      lastError = e;
    }
    const file = logFile(cfg, name);
    if (pid && !isAlive(pid)) {
      removePid(cfg, name);
      throw new Error(
        `${name} exited during start-up; see ${file}\n--- last lines ---\n${tail(file)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${name} did not answer within ${timeoutS}s (last error: ${lastError?.message ?? 'none'}); see ${file}\n--- last lines ---\n${tail(file)}`,
      );
    }
    await sleep(intervalMs);
  }
}
