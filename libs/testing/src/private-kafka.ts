import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PLATFORM = path.resolve(__dirname, '../../../deploy/local/bin/platform.mjs');

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

  async stop(): Promise<void> {
    await run(process.execPath, [PLATFORM, 'stop', '--profile', this.profile], {
      env: this.env,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
}
