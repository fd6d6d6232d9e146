// Wiring only. Telemetry starts before anything else is loaded, so http, express, pg and kafkajs
// are instrumented.
import { startTelemetry } from '@tenantry/observability';
import type * as BillingServiceModule from './billing-service';
import type * as ConfigModule from './config';

const telemetry = startTelemetry({ serviceName: 'billing' });

async function main(): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
  const { loadConfig } = require('./config') as typeof ConfigModule;
  const { startBillingService } = require('./billing-service') as typeof BillingServiceModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const service = await startBillingService(loadConfig());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      service.logger.info('shutting down', { signal });
      service
        .stop()
        .then(() => telemetry.shutdown())
        .catch((error: unknown) => {
          service.logger.error('shutdown failed', { err: error });
          process.exitCode = 1;
        });
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`billing failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
