import { context } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import { tagLiveSpans } from './tag-active-span-with-tenant';

/**
 * Names the current HTTP server span by its route pattern (`POST /v1/members/:id`) and sets
 * `http.route`, the way the express instrumentation does for express routes. For handlers that
 * match routes themselves (the gateway's pipeline): otherwise the span is named only by its
 * method, and every request of a service looks the same in a trace list.
 */
export function nameServerSpanByRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/**
 * Sets attributes on the current HTTP server span (and the active span), for what is known only
 * once the request is underway, e.g. the gateway's request id before anyone is authenticated, so
 * even a request refused at the edge can be found by it.
 */
export function tagServerSpan(attributes: Attributes): void {
  tagLiveSpans(attributes);
}
