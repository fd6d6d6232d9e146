import { context, propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The W3C trace context of the active span, to store with an event. */
export function captureTraceCarrier(from: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** A context whose parent span is the one described by a stored carrier. */
export function contextFromCarrier(
  carrier: TraceCarrier,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, carrier);
}
