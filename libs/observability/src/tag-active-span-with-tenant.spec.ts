import { DiagLogLevel, context, diag, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { runWithTenantContext, type TenantContext } from '@tenantry/tenancy';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';
import { tagActiveSpanWithTenant } from './tag-active-span-with-tenant';

const tenant: TenantContext = {
  tenantId: 'tenant-1',
  actor: { type: 'service', id: 'ledger' },
  requestId: 'req-5',
};

describe('tagActiveSpanWithTenant', () => {
  let telemetry: TelemetryHandle;
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'billing', exporter: 'memory' });
  });
  afterAll(() => telemetry.shutdown());

  it('tags an entry span that started before the tenant context was set', () => {
    trace.getTracer('spec').startActiveSpan('consume', (span) => {
      runWithTenantContext(tenant, () => tagActiveSpanWithTenant());
      span.end();
    });

    const [span] = telemetry.memoryExporter?.getFinishedSpans() ?? [];
    expect(span?.attributes).toMatchObject({
      'tenant.id': 'tenant-1',
      'actor.type': 'service',
      'actor.id': 'ledger',
      'request.id': 'req-5',
    });
  });

  it('tags the server span but not an active span that has ended (no SDK warning)', () => {
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => undefined,
        warn: (message: string) => void warnings.push(message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      DiagLogLevel.WARN,
    );
    const tracer = trace.getTracer('spec');
    const server = tracer.startSpan('GET /v1/things');
    const inRequest = setRPCMetadata(trace.setSpan(context.active(), server), {
      type: RPCType.HTTP,
      span: server,
    });
    // A middleware span that ended before the pipeline's next step ran, still the active one.
    const middleware = tracer.startSpan('middleware - query', {}, inRequest);
    middleware.end();
    context.with(trace.setSpan(inRequest, middleware), () =>
      runWithTenantContext(tenant, () => tagActiveSpanWithTenant()),
    );
    server.end();
    diag.disable();

    expect(warnings.filter((message) => /ended Span/.test(message))).toEqual([]);
    const finished = telemetry.memoryExporter?.getFinishedSpans() ?? [];
    const byName = (name: string) => finished.find((span) => span.name === name);
    expect(byName('GET /v1/things')?.attributes).toMatchObject({ 'tenant.id': 'tenant-1' });
    expect(byName('middleware - query')?.attributes['tenant.id']).toBeUndefined();
  });
});
