import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import type { RPCMetadata } from '@opentelemetry/core';
import { isProbePath } from './start-telemetry';

const TRACER_NAME = '@tenantry/observability';

/**
 * The SERVER span of each request at the edge (the gateway), made here rather than by
 * `@opentelemetry/instrumentation-http` (startTelemetry's `httpSpans: 'edge'`). The
 * instrumentation cost the gateway about as much CPU per request as all its other work, sampled
 * or not: it binds every request and response emitter to the context, computes attributes before
 * sampling, and makes a client span for the upstream call (bench/README.md, tracing tax). This
 * makes the one span an SRE reads and nothing else:
 *
 * - a root span: a client's `traceparent` is not continued, so no client picks the trace id or
 *   the sampling decision the services record under (the gateway strips it upstream too);
 * - named `METHOD route` once `nameServerSpanByRoute` names it (else `METHOD`), with
 *   `http.route`, `http.response.status_code`, ERROR at 5xx or when the client left first;
 * - the active span while the request is handled, so `tagServerSpan`, the tenant tags and the
 *   context the gateway injects into the upstream call all refer to it;
 * - probes and scrapes get none (they would bury the real requests).
 *
 * Attributes and the closing listener are only for a sampled span: an unsampled request costs one
 * sampler call and one context switch (ending a non-recording span does nothing).
 */
export function edgeServerSpans(): (
  req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
) => void {
  return (req, res, next) => {
    if (isProbePath(req.url)) {
      next();
      return;
    }
    const method = req.method ?? 'GET';
    // Asked per request (a map lookup): a tracer kept from the first call would keep feeding a
    // provider that was shut down and replaced (tests, a restarted service).
    const span = trace
      .getTracer(TRACER_NAME)
      .startSpan(method, { kind: SpanKind.SERVER, root: true });
    const metadata: RPCMetadata = { type: RPCType.HTTP, span };
    if (span.isRecording()) {
      const path = (req.url ?? '').split('?', 1)[0] ?? '';
      span.setAttributes({
        'http.request.method': method,
        'url.path': path,
        ...(req.socket.remoteAddress ? { 'network.peer.address': req.socket.remoteAddress } : {}),
        ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
      });
      res.once('close', () => {
        const { route } = metadata;
        if (route) {
          span.updateName(`${method} ${route}`);
          span.setAttribute('http.route', route);
        }
        span.setAttribute('http.response.status_code', res.statusCode);
        if (!res.writableFinished) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: 'the connection closed before the response was sent',
          });
        } else if (res.statusCode >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      });
    }
    // Express' body parser runs its callback in this context (raw-body binds it to the caller's
    // async scope), so no emitter needs binding; the spec sends a body late to hold it to that.
    const active = setRPCMetadata(trace.setSpan(context.active(), span), metadata);
    context.with(active, next);
  };
}
