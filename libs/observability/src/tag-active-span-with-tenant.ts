import { context, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
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
  tagLiveSpans(tenantSpanAttributes(tenant));
}

/**
 * Sets attributes on the active span and the request's server span, skipping one that has ended
 * already: the active span can be a finished middleware span once a pipeline has awaited, and
 * setting attributes on it only makes the SDK warn (an Error with a stack trace per request).
 */
export function tagLiveSpans(attributes: Attributes): void {
  const spans = new Set<Span | undefined>([
    trace.getActiveSpan(),
    getRPCMetadata(context.active())?.span,
  ]);
  for (const span of spans) if (span?.isRecording()) span.setAttributes(attributes);
}
