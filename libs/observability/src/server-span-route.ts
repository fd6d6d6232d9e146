import { context } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';

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
