/**
 * Jest globalSetup of the integration project.
 *
 * If KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_ADMIN_URL are all set, they are used as they
 * are. Otherwise the private `test` profile of the local stack is started (Kafka 19092, registry
 * 18081, embedded PostgreSQL 15433, no Zipkin) with the same code as `npm start`, and the three
 * variables are set here so that jest workers inherit them. A test stack that already runs (left
 * by KEEP_TEST_STACK=1) is reused.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STACK_ENV_VARS } from './stack-env';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const PLATFORM_CLI = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');
export const TEST_PROFILE = 'test';

/** Shared with global-teardown (jest runs both in the same process). */
export interface TestStackHandle {
  startedBySetup: boolean;
  profile: string;
}
const HANDLE_KEY = '__tenantryTestStack';
type WithHandle = typeof globalThis & { [HANDLE_KEY]?: TestStackHandle };

export function testStackHandle(): TestStackHandle | undefined {
  return (globalThis as WithHandle)[HANDLE_KEY];
}

interface StackState {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  databaseAdminUrl: string;
  lastStart?: { started: string[] };
}

/** Environment for the child: generic PLATFORM_* settings belong to the dev stack, not to tests. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      /^PLATFORM_(PG_PORT|KAFKA_PORT|KAFKA_CONTROLLER_PORT|REGISTRY_PORT|REGISTRY_MANAGEMENT_PORT|ZIPKIN_PORT|DATABASE_ADMIN_URL)$/.test(
        key,
      )
    ) {
      delete env[key];
    }
  }
  return env;
}

export function runPlatform(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLATFORM_CLI, ...args], {
      cwd: REPO_ROOT,
      env: childEnv(),
      // Progress (first run fetches jars) goes to jest's stderr; stdout of jest stays clean.
      stdio: ['ignore', 2, 2],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `node ${path.relative(REPO_ROOT, PLATFORM_CLI)} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`,
            ),
          ),
    );
  });
}

export default async function globalSetup(): Promise<void> {
  const given = STACK_ENV_VARS.filter((k) => process.env[k]);
  if (given.length === STACK_ENV_VARS.length) {
    process.stderr.write(
      `[testing] using the stack from the environment (Kafka ${process.env.KAFKA_BROKERS})\n`,
    );
    (globalThis as WithHandle)[HANDLE_KEY] = { startedBySetup: false, profile: 'external' };
    return;
  }
  if (given.length > 0) {
    process.stderr.write(
      `[testing] only ${given.join(', ')} set (need all three): starting the local test stack instead\n`,
    );
  }
  process.stderr.write(
    `[testing] starting the local "${TEST_PROFILE}" stack (deploy/local/bin/platform.mjs)\n`,
  );
  await runPlatform(['start', '--profile', TEST_PROFILE, '--without', 'zipkin,services']);

  const stateFile = path.join(REPO_ROOT, '.stack', TEST_PROFILE, 'stack.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as StackState;
  process.env.KAFKA_BROKERS = state.kafkaBrokers.join(',');
  process.env.SCHEMA_REGISTRY_URL = state.schemaRegistryUrl;
  process.env.DATABASE_ADMIN_URL = state.databaseAdminUrl;
  // Started by this setup (anything was not running before): teardown stops it again.
  const startedBySetup = (state.lastStart?.started.length ?? 1) > 0;
  (globalThis as WithHandle)[HANDLE_KEY] = { startedBySetup, profile: TEST_PROFILE };
}
