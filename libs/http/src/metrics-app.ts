import express from 'express';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { metricsHandler } from '@tenantry/observability';

/**
 * An app that serves only `GET /metrics`, for a port of its own: the scrape is then reachable from
 * inside the cluster only, never through the edge that serves clients (the gateway's own port).
 */
export function createMetricsApp(registry: Registry): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(registry));
  app.use((_req, res) => {
    res.status(404).type('text/plain').end('not found');
  });
  return app;
}
