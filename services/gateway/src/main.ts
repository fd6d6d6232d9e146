// Wiring only. Telemetry first: its instrumentations patch pg as it is loaded. At the edge the
// gateway makes its own server spans (edgeServerSpans in gateway-service.ts): the http and express
// instrumentations were most of its tracing tax (bench/README.md).
import { startTelemetry } from '@tenantry/observability';
import type * as Runtime from '@tenantry/service-runtime';
import type * as Config from './config';
import type * as Service from './gateway-service';

const telemetry = startTelemetry({ serviceName: 'gateway', httpSpans: 'edge' });

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
const { runService } = require('@tenantry/service-runtime') as typeof Runtime;
const { loadGatewayConfig } = require('./config') as typeof Config;
const { createGatewayService } = require('./gateway-service') as typeof Service;
/* eslint-enable @typescript-eslint/no-require-imports */

runService({
  name: 'gateway',
  telemetry,
  start: () => createGatewayService(loadGatewayConfig(), { listen: true }),
});
