// `npm start` with a Zipkin that cannot start (its port is taken): the platform warns, carries
// on, and keeps the Kafka it started running. A profile of its own, so nothing shared is touched.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeLowPort } from '../support/private-zipkin';

const run = promisify(execFile);
const PLATFORM = path.resolve(__dirname, '../../deploy/local/bin/platform.mjs');
const PROFILE = 'zipkinoptional';

describe('platform start with an unhealthy optional Zipkin', () => {
  let blocker: Server;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const [kafkaPort, zipkinPort] = [await freeLowPort(), await freeLowPort()];
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(zipkinPort, '127.0.0.1', resolve));
    const key = PROFILE.toUpperCase();
    env = {
      ...process.env,
      [`PLATFORM_${key}_KAFKA_PORT`]: String(kafkaPort),
      [`PLATFORM_${key}_KAFKA_CONTROLLER_PORT`]: String(kafkaPort + 1),
      [`PLATFORM_${key}_ZIPKIN_PORT`]: String(zipkinPort),
    };
  });

  afterAll(async () => {
    await run(process.execPath, [PLATFORM, 'stop', '--profile', PROFILE], { env });
    await new Promise((resolve) => blocker.close(resolve));
  });

  const platform = (...args: string[]): Promise<{ stdout: string }> =>
    run(process.execPath, [PLATFORM, ...args, '--profile', PROFILE], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });

  it('exits 0 with a warning, Kafka up, and status names the unhealthy component', async () => {
    const started = await platform('start', '--without', 'postgres,registry,services');

    expect(started.stdout).toContain(
      `zipkin did not answer: traces will not be collected; see .stack/${PROFILE}/logs/zipkin.log`,
    );
    expect(started.stdout).not.toContain('stopping');

    const status = await platform('status');
    expect(status.stdout).toMatch(/kafka\s+running \(pid \d+\)\s+\S+\s+answers/);
    expect(status.stdout).toMatch(/zipkin\s+stopped\s+\S+\s+UNHEALTHY at last start \(optional\)/);

    // A second start leaves the running Kafka alone and still only warns.
    const again = await platform('start', '--without', 'postgres,registry,services');
    expect(again.stdout).toMatch(/Kafka already running/);
    expect(again.stdout).toContain('zipkin did not answer');
  });
});
