// Wiring only. Telemetry first: its instrumentations patch express, pg and kafkajs as they load.
import { startTelemetry } from '@tenantry/observability';
import type * as Runtime from '@tenantry/service-runtime';
import type * as ConfigModule from './config';
import type * as ServiceModule from './identity-service';

const telemetry = startTelemetry({ serviceName: 'identity' });

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
const { runService } = require('@tenantry/service-runtime') as typeof Runtime;
const { loadConfig } = require('./config') as typeof ConfigModule;
const { createIdentityService } = require('./identity-service') as typeof ServiceModule;
/* eslint-enable @typescript-eslint/no-require-imports */

runService({
  name: 'identity',
  telemetry,
  start: () => createIdentityService(loadConfig(), { listen: true }),
});
