import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const PLATFORM = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');

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
 * A Kafka broker of a test's own (a separate local-stack profile), for tests that stop and
 * restart Kafka without disturbing the suites that share the main test broker.
 */
export class PrivateKafka {
  readonly brokers: string[];
  private readonly env: NodeJS.ProcessEnv;

  /** `port` and `port + 1` (controller): keep them below the ephemeral range (32768+). */

  constructor(
    private readonly profile: string,
    port: number,
  ) {
    if (!/^[a-z0-9]+$/.test(profile))
      throw new Error(`profile ${profile}: letters and digits only`);
    const key = profile.toUpperCase();
    this.brokers = [`127.0.0.1:${port}`];
    this.env = {
      ...process.env,
      [`PLATFORM_${key}_KAFKA_PORT`]: String(port),
      [`PLATFORM_${key}_KAFKA_CONTROLLER_PORT`]: String(port + 1),
    };
  }

  /** Starts the broker (keeping its data from an earlier start) and waits until it answers. */
  async start(): Promise<void> {
    await run(
      process.execPath,
      [
        PLATFORM,
        'start',
        '--profile',
        this.profile,
        '--without',
        'postgres,registry,zipkin,services',
      ],
      { env: this.env, maxBuffer: 16 * 1024 * 1024 },
    );
  }

  /**
   * `kill -9` on the broker's JVM (by the pid the stack recorded): no clean shutdown, no flush
   * of what it had not written yet, the way a broker dies when its node does. `start` again
   * recovers from the same data folder.
   */
  async kill(): Promise<void> {
    // Where the local stack records its processes (deploy/local/lib/stack-config.mjs).
    const pidFile = path.join(REPO_ROOT, '.stack', this.profile, 'pids', 'kafka.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no broker pid in ${pidFile}`);
    process.kill(pid, 'SIGKILL');
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (!isRunning(pid)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`broker ${pid} still alive 10 s after SIGKILL`);
  }

  async stop(): Promise<void> {
    await run(process.execPath, [PLATFORM, 'stop', '--profile', this.profile], {
      env: this.env,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}
