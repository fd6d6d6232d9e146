import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';

/** An express handler serving `registry` in the Prometheus text format (mount at `/metrics`). */
export function metricsHandler(registry: Registry): (req: Request, res: Response) => Promise<void> {
  return async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.status(200).end(body);
    } catch (error) {
      // A failing collector should fail the scrape visibly, not crash the service.
      res
        .status(500)
        .type('text/plain')
        .end(error instanceof Error ? error.message : 'error');
    }
  };
}
