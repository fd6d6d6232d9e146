import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type * as Esbuild from 'esbuild';

const REPO_ROOT = path.resolve(__dirname, '../..');
const BIN = 'tools/ops-cli/bin/tenantry.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNode(script: string, env: Record<string, string>, args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The operators' CLI (tools/ops-cli) as a child process, the environment and arguments an
 * operator gives it. Its bin compiles the TypeScript graph through @swc-node/register on every
 * run (0.5 to 1 s before the command starts); suites run it dozens of times, so `build()`
 * bundles the same `src/main.ts` once with esbuild (the one tsx ships) and `run` starts that
 * with plain node. `runBin` goes through the real bin, as `tenantry` on an operator's PATH does.
 */
export class OpsCli {
  private constructor(private readonly bundle: string) {}

  static async build(): Promise<OpsCli> {
    // Inside node_modules, so the bundle's external packages resolve as the bin's do.
    const dir = path.join(REPO_ROOT, 'node_modules/.cache/tenantry-e2e');
    mkdirSync(dir, { recursive: true });
    const bundle = path.join(dir, `ops-cli-${process.pid}-${randomBytes(4).toString('hex')}.js`);
    const esbuild = (await import(
      require.resolve('esbuild', { paths: [require.resolve('tsx')] })
    )) as typeof Esbuild;
    await esbuild.build({
      entryPoints: [path.join(REPO_ROOT, 'tools/ops-cli/src/main.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // Third-party packages load from node_modules; @tenantry/* (tsconfig paths) are bundled.
      packages: 'external',
      tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
      logLevel: 'warning',
    });
    return new OpsCli(bundle);
  }

  run(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
    return runNode(this.bundle, env, args);
  }

  runBin(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
    return runNode(BIN, env, args);
  }

  dispose(): void {
    rmSync(this.bundle, { force: true });
  }
}
