import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const PLATFORM = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');
const EVERY_COMPONENT = ['postgres', 'kafka', 'registry', 'zipkin', 'services'] as const;

/** Alive and not a zombie (a killed child whose parent has not reaped it yet). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * One server of the local stack in a profile of a test's own, for tests that stop, kill and
 * restart it without disturbing the suites that share the main test stack. Ports come from
 * `PLATFORM_<PROFILE>_<KEY>` (deploy/local/lib/stack-config.mjs).
 */
export class PrivateStackServer {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly profile: string,
    private readonly component: 'postgres' | 'kafka',
    ports: Record<string, number>,
  ) {
    if (!/^[a-z0-9]+$/.test(profile))
      throw new Error(`profile ${profile}: letters and digits only`);
    const key = profile.toUpperCase();
    this.env = { ...process.env };
    for (const [name, port] of Object.entries(ports)) {
      this.env[`PLATFORM_${key}_${name}`] = String(port);
    }
  }

  /** Starts the server (keeping its data from an earlier start) and waits until it answers. */
  async start(): Promise<void> {
    const without = EVERY_COMPONENT.filter((c) => c !== this.component).join(',');
    await run(
      process.execPath,
      [PLATFORM, 'start', '--profile', this.profile, '--without', without],
      {
        env: this.env,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }

  /**
   * `kill -9` on the server's process (by the pid the stack recorded): no clean shutdown, no
   * flush of what it had not written yet, the way a server dies when its node does. `start`
   * again recovers from the same data folder.
   */
  async kill(): Promise<void> {
    // Where the local stack records its processes (deploy/local/lib/stack-config.mjs).
    const pidFile = path.join(REPO_ROOT, '.stack', this.profile, 'pids', `${this.component}.pid`);
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new Error(`no ${this.component} pid in ${pidFile}`);
    process.kill(pid, 'SIGKILL');
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (!isRunning(pid)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.component} ${pid} still alive 10 s after SIGKILL`);
  }

  /** A clean stop of the profile (the server and its recorded processes). */
  async stop(): Promise<void> {
    await run(process.execPath, [PLATFORM, 'stop', '--profile', this.profile], {
      env: this.env,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}
