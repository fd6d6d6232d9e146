import { context, trace } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { currentTenantContext, type TenantContext } from '@tenantry/tenancy';
import { tenantSpanAttributes } from './tenant-span-attributes';

/**
 * Tags the active span, and the incoming request's server span, with the tenant. Entry spans
 * (the HTTP server span, the kafkajs consumer's process span) start before the tenant is known,
 * so TenantSpanProcessor cannot tag them; the tenant middleware and the consumer wrapper call
 * this right after they set the context. Inside express the active span is the middleware's own
 * span, so the server span is reached through the RPC metadata the http instrumentation leaves
 * in the context.
 */
export function tagActiveSpanWithTenant(
  tenant: TenantContext | undefined = currentTenantContext(),
): void {
  if (!tenant) return;
  const attributes = tenantSpanAttributes(tenant);
  trace.getActiveSpan()?.setAttributes(attributes);
  getRPCMetadata(context.active())?.span?.setAttributes(attributes);
}
