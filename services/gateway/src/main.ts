import { startTelemetry } from '@tenantry/observability';
import type * as Config from './config';
import type * as Service from './gateway-service';
import type * as Http from '@tenantry/http';
import type * as Observability from '@tenantry/observability';

// First: the instrumentations patch http, express, pg and kafkajs as they are loaded.
const telemetry = startTelemetry({ serviceName: 'gateway' });

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
const { loadGatewayConfig } = require('./config') as typeof Config;
const { createGatewayService } = require('./gateway-service') as typeof Service;
const { startHttpServer } = require('@tenantry/http') as typeof Http;
const { createLogger } = require('@tenantry/observability') as typeof Observability;
/* eslint-enable @typescript-eslint/no-require-imports */

async function main(): Promise<void> {
  const logger = createLogger('gateway');
  const config = loadGatewayConfig();
  const service = await createGatewayService(config, { logger });
  // Scraped from inside the cluster; the client-facing port does not serve metrics.
  const metricsServer = await startHttpServer(service.metricsApp, {
    port: config.metricsPort,
    host: config.host,
    logger,
  });
  await startHttpServer(service.app, {
    port: config.port,
    host: config.host,
    logger,
    shutdownSignals: ['SIGTERM', 'SIGINT'],
    onSignalShutdown: async () => {
      await metricsServer.close();
      await service.stop();
      await telemetry.shutdown();
    },
  });
}

main().catch(async (error: unknown) => {
  createLogger('gateway').error('gateway failed to start', { err: error });
  await telemetry.shutdown();
  process.exitCode = 1;
});
