import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '../..');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * One of the platform's deployables run exactly as `npm start` runs it (its `main.ts` through
 * @swc-node/register), with its output kept for the failure message.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly url: string,
  ) {}

  async start(timeoutMs = 60_000): Promise<this> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', this.entry], {
      cwd: REPO_ROOT,
      // E2E_LOG_LEVEL=debug and E2E_LOG_DIR=<folder> keep a failing run's whole story.
      env: {
        ...process.env,
        LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
        TELEMETRY_EXPORTER: 'none',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const logDir = process.env.E2E_LOG_DIR;
    const logFile = logDir ? path.join(logDir, `${this.name}-${child.pid ?? 'unknown'}.log`) : '';
    if (logDir) mkdirSync(logDir, { recursive: true });
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
      if (logFile) appendFileSync(logFile, chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`${this.name} exited with ${child.exitCode} during start:\n${this.output}`);
      }
      try {
        if ((await fetch(`${this.url}/readyz`)).ok) return this;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGTERM, as an orchestrator would; the service shuts down gracefully. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  logs(): string {
    return this.output;
  }
}
