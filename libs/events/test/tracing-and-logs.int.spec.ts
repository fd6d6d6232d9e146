import { randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LogCapture, TelemetryHandle } from '@tenantry/observability';
import { createLogCapture, createLogger, startTelemetry } from '@tenantry/observability';
import { waitFor } from '@tenantry/testing';
import { OrderTestService } from './support/order-service';

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe('one trace from the writing request through Kafka to the consumer', () => {
  let telemetry: TelemetryHandle;
  let capture: LogCapture;
  let service: OrderTestService;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'orders-test', exporter: 'memory' });
    capture = createLogCapture();
    const logger = createLogger('orders-ledger', {
      level: 'info',
      transports: [capture.transport],
    });
    service = await new OrderTestService({ logger }).setUp();
  });

  afterAll(async () => {
    await service?.tearDown();
    await telemetry?.shutdown();
  });

  it('makes the consumer span a child of the producer span, and tags logs and spans', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const tracer = trace.getTracer('test');
    const requestSpan = await tracer.startActiveSpan(
      'POST /orders',
      { kind: SpanKind.SERVER },
      async (span) => {
        await service.placeOrder(tenant, { orderId: 'traced' }, { actorId: 'bob' });
        span.end();
        return span;
      },
    );
    await waitFor('the traced order', async () => (await service.ledger(tenant)).length === 1);
    const spans = await waitFor('the consumer span', () => {
      const finished = telemetry.memoryExporter?.getFinishedSpans() ?? [];
      return finished.some(
        (s) => s.name.startsWith('process ') && s.attributes['tenant.id'] === tenant,
      )
        ? finished
        : undefined;
    });

    const traceId = requestSpan.spanContext().traceId;
    const publish = spans.find(
      (s) => s.name === `publish ${service.catalogue.topic}` && s.spanContext().traceId === traceId,
    );
    const handle = spans.find(
      (s) =>
        s.name === `process ${service.catalogue.topic}` &&
        s.attributes['cloudevents.event_type'] === service.catalogue.orderPlaced.type &&
        s.spanContext().traceId === traceId,
    );
    expect(publish).toBeDefined();
    expect(handle).toBeDefined();
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    expect(handle?.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(publish as ReadableSpan)).toBe(requestSpan.spanContext().spanId);
    expect(parentOf(handle as ReadableSpan)).toBe(publish?.spanContext().spanId);
    expect(handle?.attributes).toMatchObject({
      'tenant.id': tenant,
      'actor.id': 'bob',
      'actor.type': 'user',
    });

    const line = capture.lines.find(
      (l) => l.message === 'order recorded' && l.tenant_id === tenant,
    );
    expect(line).toMatchObject({
      service: 'orders-ledger',
      trace_id: traceId,
      tenant_id: tenant,
      actor_id: 'bob',
      actor_type: 'user',
    });
    expect(line?.span_id).toBe(handle?.spanContext().spanId);
  });
});
