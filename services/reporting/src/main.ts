// Wiring only. Telemetry starts before anything else is loaded, so http, express, pg and kafkajs
// are instrumented.
import { startTelemetry } from '@tenantry/observability';
import type * as Runtime from '@tenantry/service-runtime';
import type * as ReportingServiceModule from './reporting-service';
import type * as ConfigModule from './config';

const telemetry = startTelemetry({ serviceName: 'reporting' });

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
const { runService } = require('@tenantry/service-runtime') as typeof Runtime;
const { loadConfig } = require('./config') as typeof ConfigModule;
const { startReportingService } = require('./reporting-service') as typeof ReportingServiceModule;
/* eslint-enable @typescript-eslint/no-require-imports */

runService({ name: 'reporting', telemetry, start: () => startReportingService(loadConfig()) });
