// A small HTTP service for the collector-outage test, started as its own process (OpenTelemetry's
// auto-instrumentations do not patch inside jest): telemetry first, exporting as the env says
// (TELEMETRY_EXPORTER, ZIPKIN_URL), then an app from createHttpApp with one traced route.
//   PORT=... TELEMETRY_EXPORTER=zipkin ZIPKIN_URL=... node -r @swc-node/register e2e/support/traced-http-app.ts
import { startTelemetry } from '@tenantry/observability';
import type * as Api from '@opentelemetry/api';
import type * as Http from '@tenantry/http';
import type * as Observability from '@tenantry/observability';

const telemetry = startTelemetry({ serviceName: 'outage-probe' });

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after telemetry on purpose */
const { trace } = require('@opentelemetry/api') as typeof Api;
const { createHttpApp, startHttpServer } = require('@tenantry/http') as typeof Http;
const { createLogger } = require('@tenantry/observability') as typeof Observability;
/* eslint-enable @typescript-eslint/no-require-imports */

// Spans per request besides the HTTP and express ones, so a batch of requests is real export work.
const CHILD_SPANS = 20;

async function main(): Promise<void> {
  const logger = createLogger('outage-probe');
  const tracer = trace.getTracer('outage-probe');
  const app = createHttpApp({
    serviceName: 'outage-probe',
    logger,
    contextKeys: false,
    configure: (routes) => {
      routes.get('/work', (_req, res) => {
        for (let i = 0; i < CHILD_SPANS; i++) {
          tracer.startSpan(`step-${i}`, { attributes: { 'step.index': i } }).end();
        }
        res.json({ ok: true });
      });
      // Memory of this process, for the test's "bounded" check.
      routes.get('/memory', (_req, res) => {
        if (typeof global.gc === 'function') global.gc();
        const { rss, heapUsed } = process.memoryUsage();
        res.json({ rss, heapUsed });
      });
    },
  });
  await startHttpServer(app, {
    port: Number(process.env['PORT']),
    host: '127.0.0.1',
    logger,
    shutdownSignals: ['SIGTERM'],
    onSignalShutdown: () => telemetry.shutdown(),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`outage-probe failed to start: ${String(error)}\n`);
  process.exit(1);
});
