import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { context, propagation } from '@opentelemetry/api';
import { CONTEXT_HEADERS, isClientForbiddenContextHeader } from '@tenantry/tenancy';
import type { TenantContext } from '@tenantry/tenancy';
import { API_KEY_HEADER, OPERATOR_TENANT_HEADER } from '../auth/request-authenticator';

/** RFC 9110 §7.6.1 hop-by-hop headers: they describe one connection, not the request. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers the gateway owns: whatever a client sent under these names is dropped, and the gateway
 * writes its own. Trace context is included: a client does not get to pick the trace (or the
 * sampling decision) that services record under.
 */
const GATEWAY_OWNED = new Set([
  'host',
  'content-length',
  'traceparent',
  'tracestate',
  'baggage',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  OPERATOR_TENANT_HEADER,
]);

/** The client's credentials: consumed by the gateway; services trust only the context token. */
const CREDENTIALS = new Set(['authorization', API_KEY_HEADER]);

function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set(
    (value ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Whether a client header may travel to the service (`keepCredentials` for public routes). */
export function isForwardableRequestHeader(
  name: string,
  keepCredentials: boolean,
  listedInConnection: ReadonlySet<string> = new Set(),
): boolean {
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower) || listedInConnection.has(lower)) return false;
  if (GATEWAY_OWNED.has(lower) || isClientForbiddenContextHeader(lower)) return false;
  if (!keepCredentials && CREDENTIALS.has(lower)) return false;
  return true;
}

export interface StampedContext {
  readonly context: TenantContext;
  readonly token: string;
}

export interface UpstreamHeaderInput {
  readonly incoming: IncomingHttpHeaders;
  readonly requestId: string;
  /** The verified context and its signed token; absent on public routes. */
  readonly stamped: StampedContext | undefined;
  readonly clientAddress: string | undefined;
  readonly protocol: string;
  readonly upstreamHost: string;
  readonly bodyLength: number | undefined;
}

// Trace and span ids for many requests from one call into the CSPRNG (two calls per request
// were ≈ 2 % of the gateway's busy time); each id's bytes are used once.
const TRACE_ID_BYTES = 16;
const IDS_BYTES = TRACE_ID_BYTES + 8;
const randomPool = Buffer.alloc(IDS_BYTES * 512);
let randomPoolOffset = randomPool.length;

function randomTraceparent(): string {
  if (randomPoolOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const start = randomPoolOffset;
  randomPoolOffset += IDS_BYTES;
  const traceId = randomPool.toString('hex', start, start + TRACE_ID_BYTES);
  const spanId = randomPool.toString('hex', start + TRACE_ID_BYTES, start + IDS_BYTES);
  return `00-${traceId}-${spanId}-01`;
}

/**
 * The request headers a service receives: the client's ordinary headers, minus every tenant,
 * actor and context header it sent, plus the gateway's verified context.
 */
export function upstreamRequestHeaders(input: UpstreamHeaderInput): OutgoingHttpHeaders {
  const { incoming, stamped } = input;
  const listed = connectionListed(incoming);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (isForwardableRequestHeader(name, stamped === undefined, listed)) headers[name] = value;
  }
  headers.host = input.upstreamHost;
  if (input.bodyLength !== undefined) headers['content-length'] = String(input.bodyLength);
  headers['x-forwarded-proto'] = input.protocol;
  if (incoming.host !== undefined) headers['x-forwarded-host'] = incoming.host;
  if (input.clientAddress !== undefined) headers['x-forwarded-for'] = input.clientAddress;
  headers[CONTEXT_HEADERS.requestId] = input.requestId;

  // With telemetry running the active (edge server) span's context goes out, sampled or not, so
  // the service records under the gateway's trace and decision; without, a fresh trace still ties
  // the hops together.
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  headers.traceparent = carrier.traceparent ?? randomTraceparent();
  if (carrier.tracestate) headers.tracestate = carrier.tracestate;

  if (stamped) {
    headers[CONTEXT_HEADERS.tenantId] = stamped.context.tenantId;
    headers[CONTEXT_HEADERS.actorType] = stamped.context.actor.type;
    headers[CONTEXT_HEADERS.actorId] = stamped.context.actor.id;
    headers[CONTEXT_HEADERS.contextToken] = stamped.token;
  }
  return headers;
}

/** Response headers that must not travel back to the client. */
export function isForwardableResponseHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return !HOP_BY_HOP.has(lower) && lower !== CONTEXT_HEADERS.contextToken;
}
