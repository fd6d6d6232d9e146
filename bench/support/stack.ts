/**
 * Where the benchmarks find Kafka, the schema registry and PostgreSQL: the three variables of the
 * environment when all are set, otherwise the private `bench` profile of the local stack
 * (deploy/local/bin/platform.mjs) on its own ports, started here and stopped again at the end.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
const PLATFORM_CLI = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');
export const BENCH_PROFILE = 'bench';

/** Ports of the `bench` profile unless PLATFORM_BENCH_<KEY> says otherwise. */
const BENCH_PORTS: Record<string, string> = {
  PG_PORT: '25433',
  KAFKA_PORT: '29092',
  KAFKA_CONTROLLER_PORT: '29093',
  REGISTRY_PORT: '28081',
  REGISTRY_MANAGEMENT_PORT: '29081',
  ZIPKIN_PORT: '29411',
};

const ENV_VARS = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_ADMIN_URL'] as const;

export interface BenchStack {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  databaseAdminUrl: string;
  /** Where the addresses came from, for the report. */
  origin: string;
  /** Stops the stack if (and only if) this process started it. */
  release(): Promise<void>;
}

/** Generic PLATFORM_* settings belong to the dev stack; the bench profile gets its own ports. */
function platformEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(BENCH_PORTS)) {
    delete env[`PLATFORM_${key}`];
    const specific = `PLATFORM_${BENCH_PROFILE.toUpperCase()}_${key}`;
    if (!env[specific]) env[specific] = BENCH_PORTS[key];
  }
  delete env.PLATFORM_DATABASE_ADMIN_URL;
  return env;
}

function runPlatform(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLATFORM_CLI, ...args], {
      cwd: REPO_ROOT,
      env: platformEnv(),
      stdio: ['ignore', 2, 2],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`platform.mjs ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

interface StackState {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  databaseAdminUrl: string;
  lastStart?: { started: string[] };
}

export async function acquireStack(env: NodeJS.ProcessEnv = process.env): Promise<BenchStack> {
  const given = ENV_VARS.filter((key) => env[key]?.trim());
  if (given.length === ENV_VARS.length) {
    return {
      kafkaBrokers: env
        .KAFKA_BROKERS!.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!.trim().replace(/\/+$/, ''),
      databaseAdminUrl: env.DATABASE_ADMIN_URL!.trim(),
      origin: 'environment',
      release: async () => undefined,
    };
  }
  if (given.length > 0) {
    console.error(`[bench] only ${given.join(', ')} set (need all three): using the bench stack`);
  }
  console.error(`[bench] starting the local "${BENCH_PROFILE}" stack (without zipkin)`);
  await runPlatform(['start', '--profile', BENCH_PROFILE, '--without', 'zipkin']);
  const stateFile = path.join(REPO_ROOT, '.stack', BENCH_PROFILE, 'stack.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as StackState;
  // Already running before (e.g. left by BENCH_KEEP_STACK=1): leave it running.
  const startedHere = (state.lastStart?.started.length ?? 1) > 0;
  return {
    kafkaBrokers: state.kafkaBrokers,
    schemaRegistryUrl: state.schemaRegistryUrl,
    databaseAdminUrl: state.databaseAdminUrl,
    origin: `local "${BENCH_PROFILE}" stack${startedHere ? '' : ' (already running)'}`,
    async release() {
      if (!startedHere) return;
      if (env.BENCH_KEEP_STACK === '1') {
        console.error(
          `[bench] BENCH_KEEP_STACK=1: leaving the "${BENCH_PROFILE}" stack running ` +
            `(node deploy/local/bin/platform.mjs stop --profile ${BENCH_PROFILE})`,
        );
        return;
      }
      await runPlatform(['stop', '--profile', BENCH_PROFILE]);
    },
  };
}
