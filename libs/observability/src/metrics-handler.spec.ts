import type { Request, Response } from 'express';
import { createMetrics } from './metrics-registry';
import { metricsHandler } from './metrics-handler';

function fakeResponse() {
  const sent = { status: 0, headers: {} as Record<string, string>, body: '' };
  const res = {
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return res;
    },
    status(code: number) {
      sent.status = code;
      return res;
    },
    type(value: string) {
      sent.headers['content-type'] = value;
      return res;
    },
    end(body: string) {
      sent.body = body;
      return res;
    },
  };
  return { res: res as unknown as Response, sent };
}

describe('metricsHandler', () => {
  it('serves the platform metrics in the Prometheus text format', async () => {
    const metrics = createMetrics('billing');
    metrics.httpRequestsTotal.inc({
      route: '/invoices/:id',
      method: 'GET',
      status: '200',
      tenant_class: 'standard',
    });
    metrics.httpRequestDurationSeconds.observe(
      { route: '/invoices/:id', method: 'GET', status: '200', tenant_class: 'standard' },
      0.012,
    );
    metrics.outboxBacklog.set(3);
    metrics.outboxPublishedTotal.inc({ topic: 'billing.invoice.issued' });
    metrics.inboxProcessedTotal.inc({ consumer: 'ledger', outcome: 'duplicate' });
    metrics.consumerLag.set(
      { consumer: 'ledger', topic: 'billing.invoice.issued', partition: 0 },
      5,
    );
    metrics.dlqEventsTotal.inc({ topic: 'billing.invoice.issued' });
    const { res, sent } = fakeResponse();

    await metricsHandler(metrics.registry)({} as Request, res);

    expect(sent.status).toBe(200);
    expect(sent.headers['content-type']).toContain('text/plain');
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'outbox_backlog',
      'outbox_published_total',
      'inbox_processed_total',
      'consumer_lag',
      'dlq_events_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect(sent.body).toContain(name);
    }
    expect(sent.body).toContain(
      'http_requests_total{route="/invoices/:id",method="GET",status="200",tenant_class="standard",service="billing"} 1',
    );
    expect(sent.body).toContain('outbox_backlog{service="billing"} 3');
    expect(sent.body).toContain(
      'inbox_processed_total{consumer="ledger",outcome="duplicate",service="billing"} 1',
    );
  });

  it('keeps registries apart, so two services in one process do not collide', () => {
    expect(() => {
      createMetrics('billing');
      createMetrics('ledger');
    }).not.toThrow();
  });
});
