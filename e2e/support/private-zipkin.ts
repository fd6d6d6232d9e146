import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');
const PLATFORM = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');

/** A TCP port free on 127.0.0.1 below the ephemeral range (32768+), so no client socket takes it. */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 32768');
}

/**
 * A real Zipkin of a test's own, started by the local stack's own code (a separate profile, jar
 * fetched into .cache/ by mvn when missing), so a test can kill it without touching anyone else's.
 */
export class PrivateZipkin {
  readonly url: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly profile: string,
    readonly port: number,
  ) {
    if (!/^[a-z0-9]+$/.test(profile))
      throw new Error(`profile ${profile}: letters and digits only`);
    this.url = `http://127.0.0.1:${port}`;
    this.env = { ...process.env, [`PLATFORM_${profile.toUpperCase()}_ZIPKIN_PORT`]: String(port) };
  }

  /** Starts Zipkin and fails unless it answers (the platform itself only warns: it is optional). */
  async start(): Promise<void> {
    const { stdout } = await run(
      process.execPath,
      [
        PLATFORM,
        'start',
        '--profile',
        this.profile,
        '--without',
        'postgres,kafka,registry,services',
      ],
      { env: this.env, maxBuffer: 16 * 1024 * 1024 },
    );
    const health = await fetch(`${this.url}/health`).catch(() => undefined);
    if (!health?.ok) throw new Error(`private Zipkin did not come up:\n${stdout}`);
  }

  /** The pid the platform recorded for it. */
  pid(): number {
    const file = path.join(REPO_ROOT, '.stack', this.profile, 'pids', 'zipkin.pid');
    return Number(readFileSync(file, 'utf8').split('\n')[0]);
  }

  /** Services this Zipkin has received spans from. */
  async services(): Promise<string[]> {
    const response = await fetch(`${this.url}/api/v2/services`);
    return response.ok ? ((await response.json()) as string[]) : [];
  }

  /** Stops what the profile started (nothing, when the test already killed it). */
  async stop(): Promise<void> {
    await run(process.execPath, [PLATFORM, 'stop', '--profile', this.profile], {
      env: this.env,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}
