import { createServer } from 'node:net';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { runWithTenantContext } from '@tenantry/tenancy';
import { isProbePath, startTelemetry, type TelemetryHandle } from './start-telemetry';

describe('startTelemetry', () => {
  let telemetry: TelemetryHandle | undefined;

  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('records parent/child spans, tagged with the tenant, into a test exporter', async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = startTelemetry({ serviceName: 'billing', spanExporter: exporter });
    const tracer = trace.getTracer('spec');

    await runWithTenantContext(
      { tenantId: 'tenant-1', actor: { type: 'user', id: 'user-7' }, requestId: 'req-1' },
      () =>
        tracer.startActiveSpan('parent', async (parent) => {
          await Promise.resolve();
          tracer.startSpan('child').end();
          parent.end();
        }),
    );
    await telemetry.forceFlush();

    const spans = exporter.getFinishedSpans();
    const parent = spans.find((span) => span.name === 'parent');
    const child = spans.find((span) => span.name === 'child');
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
    expect(child?.attributes['tenant.id']).toBe('tenant-1');
    expect(child?.resource.attributes['service.name']).toBe('billing');
  });

  it('offers a memory exporter', async () => {
    telemetry = startTelemetry({ serviceName: 'billing', exporter: 'memory' });

    trace.getTracer('spec').startSpan('work').end();

    expect(telemetry.memoryExporter?.getFinishedSpans().map((span) => span.name)).toEqual(['work']);
  });

  it('returns the running handle for the same service and refuses another service', () => {
    telemetry = startTelemetry({ serviceName: 'billing', exporter: 'none' });

    expect(startTelemetry({ serviceName: 'billing' })).toBe(telemetry);
    expect(() => startTelemetry({ serviceName: 'ledger' })).toThrow(/already started/);
  });

  it('can start again after shutdown', async () => {
    await startTelemetry({ serviceName: 'billing', exporter: 'none' }).shutdown();
    telemetry = startTelemetry({ serviceName: 'billing', exporter: 'memory' });

    trace.getTracer('spec').startSpan('again').end();

    expect(telemetry.memoryExporter?.getFinishedSpans()).toHaveLength(1);
  });

  it('drops spans for a Zipkin that does not answer, with one warning and no waiting', async () => {
    telemetry = startTelemetry({
      serviceName: 'billing',
      exporter: 'zipkin',
      zipkinUrl: `http://127.0.0.1:${await closedPort()}/api/v2/spans`,
    });
    // After startTelemetry, which installs its own console logger.
    const lines: string[] = [];
    const capture = (...args: unknown[]): void => {
      lines.push(args.map(String).join(' '));
    };
    diag.setLogger(
      { error: capture, warn: capture, info: capture, debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    const tracer = trace.getTracer('spec');

    const started = Date.now();
    for (let i = 0; i < 20_000; i++) tracer.startSpan(`work-${i}`).end();
    const endingTook = Date.now() - started;
    await telemetry.forceFlush();
    await telemetry.forceFlush();

    expect(endingTook).toBeLessThan(2000);
    expect(lines.filter((line) => !/maxQueueSize/.test(line))).toEqual([
      expect.stringMatching(/^span export to http:\/\/127\.0\.0\.1:\d+\/api\/v2\/spans failed/),
    ]);
  });

  it('rejects an unknown TELEMETRY_EXPORTER', () => {
    process.env['TELEMETRY_EXPORTER'] = 'jaeger';
    try {
      expect(() => startTelemetry({ serviceName: 'billing' })).toThrow(/TELEMETRY_EXPORTER/);
    } finally {
      delete process.env['TELEMETRY_EXPORTER'];
    }
  });

  it('refuses to start over a tracer provider registered by someone else', () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    try {
      expect(() => startTelemetry({ serviceName: 'billing', exporter: 'none' })).toThrow(
        /already registered/,
      );
    } finally {
      trace.disable();
    }
  });
});

/** A port nothing listens on (asked of the kernel, then released): connections are refused. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('isProbePath', () => {
  it('names liveness, readiness and metrics paths, with or without a query', () => {
    expect(['/healthz', '/readyz', '/metrics', '/readyz?verbose=1'].map(isProbePath)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['/v1/signup', '/healthzz', '/metrics/x', undefined].map(isProbePath)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
