// Wiring only. Telemetry first: its instrumentations patch express, pg and kafkajs as they load.
import { startTelemetry } from '@tenantry/observability';
import type * as ConfigModule from './config';
import type * as ServiceModule from './identity-service';

const telemetry = startTelemetry({ serviceName: 'identity' });

async function main(): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
  const { loadConfig } = require('./config') as typeof ConfigModule;
  const { createIdentityService } = require('./identity-service') as typeof ServiceModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const identity = await createIdentityService(loadConfig(), { listen: true });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      identity.deps.logger.info('shutting down', { signal });
      identity
        .stop()
        .then(() => telemetry.shutdown())
        .catch((error: unknown) => {
          identity.deps.logger.error('shutdown failed', { err: error });
          process.exitCode = 1;
        });
    });
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`identity failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  await telemetry.shutdown();
  process.exit(1);
});
