import { ROOT_CONTEXT } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { runWithTenantContext, type TenantContext } from '@tenantry/tenancy';
import { TenantSpanProcessor } from './tenant-span-processor';

const tenant: TenantContext = {
  tenantId: 'tenant-1',
  actor: { type: 'user', id: 'user-7' },
  requestId: 'req-42',
};

describe('TenantSpanProcessor', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new TenantSpanProcessor(), new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('spec');

  afterEach(() => exporter.reset());
  afterAll(() => provider.shutdown());

  it('stamps tenant, actor and request ids on spans started inside a tenant context', () => {
    runWithTenantContext(tenant, () => tracer.startSpan('work', {}, ROOT_CONTEXT).end());

    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toMatchObject({
      'tenant.id': 'tenant-1',
      'actor.type': 'user',
      'actor.id': 'user-7',
      'request.id': 'req-42',
    });
  });

  it('leaves spans outside a tenant context untagged', () => {
    tracer.startSpan('startup', {}, ROOT_CONTEXT).end();

    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).not.toHaveProperty('tenant.id');
    expect(span?.attributes).not.toHaveProperty('actor.id');
  });
});
