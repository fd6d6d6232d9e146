/**
 * Jest globalSetup of the integration project (the choice: stack-choice.ts).
 *
 * If KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_ADMIN_URL are all set, they are used as they
 * are. Otherwise, where a Docker engine answers, Redis, PostgreSQL, Kafka and the registry are
 * started as containers with testcontainers (container-stack.ts). Elsewhere the private `test`
 * profile of the local stack is started (Kafka 19092, registry 18081, embedded PostgreSQL 15433,
 * Redis 6379 or the one already there, no Zipkin) with the same code as `npm start`. Either way the
 * variables (and REDIS_URL) are set here so that jest workers inherit them. A test stack that
 * already runs (left by KEEP_TEST_STACK=1) is reused.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startContainerStack, type ContainerStack } from './container-stack';
import { dockerEngineAnswers } from './docker-probe';
import { chooseTestStack } from './stack-choice';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const PLATFORM_CLI = path.join(REPO_ROOT, 'deploy/local/bin/platform.mjs');
export const TEST_PROFILE = 'test';

/** Shared with global-teardown (jest runs both in the same process). */
export interface TestStackHandle {
  startedBySetup: boolean;
  profile: string;
  /** The containers' stack, stopped by the teardown (the process stack is stopped by profile). */
  containers?: ContainerStack;
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
  redisUrl?: string | null;
  lastStart?: { started: string[] };
}

/** Environment for the child: generic PLATFORM_* settings belong to the dev stack, not to tests. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      /^PLATFORM_(PG_PORT|KAFKA_PORT|KAFKA_CONTROLLER_PORT|REGISTRY_PORT|REGISTRY_MANAGEMENT_PORT|ZIPKIN_PORT|REDIS_PORT|DATABASE_ADMIN_URL|REDIS_URL)$/.test(
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
  const choice = await chooseTestStack(process.env, () => dockerEngineAnswers());
  if (choice.kind === 'environment') {
    process.stderr.write(
      `[testing] using the stack from the environment (Kafka ${process.env.KAFKA_BROKERS})\n`,
    );
    (globalThis as WithHandle)[HANDLE_KEY] = { startedBySetup: false, profile: 'external' };
    return;
  }
  if (choice.kind === 'containers') {
    process.stderr.write(`[testing] ${choice.reason}: starting the test stack as containers\n`);
    const containers = await startContainerStack();
    // REDIS_URL too: the containers' Redis, not whatever runs on 6379.
    Object.assign(process.env, containers.env);
    (globalThis as WithHandle)[HANDLE_KEY] = {
      startedBySetup: true,
      profile: 'containers',
      containers,
    };
    return;
  }
  process.stderr.write(
    `[testing] ${choice.reason}: starting the local "${TEST_PROFILE}" stack (deploy/local/bin/platform.mjs)\n`,
  );
  await runPlatform(['start', '--profile', TEST_PROFILE, '--without', 'zipkin,services']);

  const stateFile = path.join(REPO_ROOT, '.stack', TEST_PROFILE, 'stack.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as StackState;
  process.env.KAFKA_BROKERS = state.kafkaBrokers.join(',');
  process.env.SCHEMA_REGISTRY_URL = state.schemaRegistryUrl;
  process.env.DATABASE_ADMIN_URL = state.databaseAdminUrl;
  if (state.redisUrl && !process.env.REDIS_URL) process.env.REDIS_URL = state.redisUrl;
  // Started by this setup (anything was not running before): teardown stops it again.
  const startedBySetup = (state.lastStart?.started.length ?? 1) > 0;
  (globalThis as WithHandle)[HANDLE_KEY] = { startedBySetup, profile: TEST_PROFILE };
}
