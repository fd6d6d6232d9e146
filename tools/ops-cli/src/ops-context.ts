import type { Command } from 'commander';
import type { FetchLike } from './http-json';
import type { GlobalFlags, OpsConfig } from './ops-config';
import { resolveOpsConfig } from './ops-config';
import type { Io } from './output';
import { PlatformClient } from './platform-client';

/** What every command is given: its I/O, the environment, and (for tests) the network. */
export interface OpsContext {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  readonly fetch?: FetchLike;
}

/** The configuration for this invocation: global flags over the environment. */
export function configOf(context: OpsContext, command: Command): OpsConfig {
  return resolveOpsConfig(command.optsWithGlobals<GlobalFlags>(), context.env);
}

export function platformClientOf(context: OpsContext, config: OpsConfig): PlatformClient {
  return new PlatformClient({
    apiUrl: config.apiUrl,
    email: config.operatorEmail,
    password: config.operatorPassword,
    timeoutMs: config.timeoutMs,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
}
