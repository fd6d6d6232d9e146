import { trace } from '@opentelemetry/api';
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
});
