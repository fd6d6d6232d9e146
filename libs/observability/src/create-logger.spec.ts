import { trace } from '@opentelemetry/api';
import { runWithTenantContext, type TenantContext } from '@tenantry/tenancy';
import { createLogCapture } from './create-log-capture';
import { createLogger } from './create-logger';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';

const tenant: TenantContext = {
  tenantId: 'tenant-1',
  actor: { type: 'api_key', id: 'key-3' },
  requestId: 'req-9',
};

describe('createLogger', () => {
  // Started as a service would, so spans become active through the real context manager.
  let telemetry: TelemetryHandle;
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'billing', exporter: 'memory' });
  });
  afterAll(() => telemetry.shutdown());

  function setup() {
    const capture = createLogCapture();
    const logger = createLogger('billing', { level: 'debug', transports: [capture.transport] });
    return { capture, logger };
  }

  it('adds service, trace, span, tenant and actor ids to every line', () => {
    const { capture, logger } = setup();

    const span = trace.getTracer('spec').startActiveSpan('request', (active) => {
      runWithTenantContext(tenant, () => logger.info('invoice issued', { invoiceId: 'inv-1' }));
      active.end();
      return active;
    });

    expect(capture.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'invoice issued',
        invoiceId: 'inv-1',
        service: 'billing',
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        tenant_id: 'tenant-1',
        actor_type: 'api_key',
        actor_id: 'key-3',
        request_id: 'req-9',
        timestamp: expect.any(String),
      }),
    ]);
  });

  it('omits trace and tenant fields outside a span and a tenant context', () => {
    const { capture, logger } = setup();

    logger.info('started');

    expect(capture.lines[0]).toMatchObject({ service: 'billing', message: 'started' });
    expect(capture.lines[0]).not.toHaveProperty('trace_id');
    expect(capture.lines[0]).not.toHaveProperty('tenant_id');
  });

  it('serialises err metadata, including causes and circular properties', () => {
    const { capture, logger } = setup();
    const cause = new Error('connection reset');
    const error = new Error('publish failed', { cause }) as Error & { self?: unknown };
    error.self = error;
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['me'] = circular;

    logger.error('outbox publish failed', { err: error, detail: circular });

    expect(capture.lines[0]).toMatchObject({
      err: {
        name: 'Error',
        message: 'publish failed',
        stack: expect.stringContaining('publish failed'),
        cause: { name: 'Error', message: 'connection reset' },
      },
      detail: { name: 'loop', me: '[Circular]' },
    });
  });

  it('honours the level', () => {
    const capture = createLogCapture();
    const logger = createLogger('billing', { level: 'warn', transports: [capture.transport] });

    logger.info('hidden');
    logger.warn('shown');

    expect(capture.lines.map((line) => line['message'])).toEqual(['shown']);
  });

  it('is silent when the level is silent', () => {
    const capture = createLogCapture();
    const logger = createLogger('billing', { level: 'silent', transports: [capture.transport] });

    logger.error('nothing');

    expect(capture.lines).toEqual([]);
  });

  it('refuses an unknown level instead of dropping every line', () => {
    expect(() => createLogger('billing', { level: 'trace' })).toThrow(/unknown log level "trace"/);
  });
});
