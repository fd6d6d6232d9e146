import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentTenantContext } from '@tenantry/tenancy';
import { tenantSpanAttributes } from './tenant-span-attributes';

/**
 * Stamps every span, when it starts, with the tenant and actor of the current tenant context.
 * Doing it in a processor (rather than in each instrumentation) means spans created by
 * third-party instrumentations (pg, kafkajs producer, outgoing http) are tagged too. Spans
 * started outside a tenant context (startup, health checks) are left untagged rather than given
 * placeholders; the entry spans that start before the context exists are covered by
 * `tagActiveSpanWithTenant`.
 */
export class TenantSpanProcessor implements SpanProcessor {
  onStart(span: Span, _parentContext: Context): void {
    const tenant = currentTenantContext();
    if (tenant) span.setAttributes(tenantSpanAttributes(tenant));
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
