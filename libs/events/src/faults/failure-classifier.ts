/**
 * What the platform knows about failures, and the two decisions built on it: the inbox's
 * (`classifyFailure`: is a dependency down, or can this event never succeed?) and the outbox
 * relay's (`classifyPublishFailure`: did the broker refuse this very record for good?). Both read
 * the same cause chains; they differ in the default for an unknown error, on purpose.
 */

/**
 * `transient`: a dependency (registry, database, broker) is down or overloaded; the same event
 * will succeed later, so the consumer pauses and retries. `permanent`: the event itself cannot
 * succeed (undecodable, unknown schema, refused by its handler); it goes to the DLQ.
 */
export type FailureClass = 'transient' | 'permanent';

/**
 * `permanent`: the broker (or registry) refused this very record and will refuse it again, so
 * retrying cannot help; the relay may set the row aside. `transient`: anything else (broker down,
 * leader moving, timeouts, unknown errors): retry with backoff, never set aside. Unknown errors
 * count as transient on purpose: wrongly blocking is visible and recoverable, wrongly setting an
 * event aside loses it from the stream.
 */
export type PublishFailureKind = 'permanent' | 'transient';

// Socket-level failures: the peer is unreachable or went away mid-request.
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// PostgreSQL: serialization failure, deadlock, and the shutdown family 57P01..57P03.
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03']);

// node-postgres reports a lost or unobtainable connection by message only, without a code.
const PG_CONNECTION_LOSS =
  /connection terminated|timeout exceeded when trying to connect|connection is not queryable|client was closed|cannot use a pool after calling end|Connection terminated/i;

// The registry client (mappersmith) reports network failures as a fake HTTP 400 with the
// socket error in the message.
const NETWORK_FAILURE_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket hang up|Timeout \(\d+ms\)/;

/** What one link of a cause chain says, or undefined when it says nothing decisive. */
function classifyOne(error: object): FailureClass | undefined {
  const e = error as {
    transient?: unknown;
    retriable?: unknown;
    code?: unknown;
    status?: unknown;
    name?: unknown;
    message?: unknown;
  };
  // Our own typed errors (schema/decode-errors.ts) say so explicitly.
  if (typeof e.transient === 'boolean') return e.transient ? 'transient' : 'permanent';
  // KafkaJS errors carry `retriable` (connection loss, leader election, request timeouts).
  if (e.retriable === true) return 'transient';
  if (typeof e.name === 'string' && /^KafkaJS(Connection|RequestTimeout)Error$/.test(e.name)) {
    return 'transient';
  }
  if (typeof e.code === 'string') {
    if (TRANSIENT_SOCKET_CODES.has(e.code) || TRANSIENT_SQLSTATES.has(e.code)) return 'transient';
    // Class 08: connection exception; class 53: insufficient resources (too many connections).
    if (/^(08|53)[0-9A-Z]{3}$/.test(e.code)) return 'transient';
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.status === 'number') {
    if (e.status >= 500 || e.status === 408 || e.status === 429) return 'transient';
    if (e.status === 400 && NETWORK_FAILURE_TEXT.test(message)) return 'transient';
  }
  if (PG_CONNECTION_LOSS.test(message)) return 'transient';
  return undefined;
}

/**
 * The error and the errors it wraps, nearest first: standard `cause`, TypeORM's `driverError`,
 * KafkaJS' `originalError`, and the `errors` of aggregate errors (kafkajs nests a broker's refusal
 * in them). Bounded in depth and cycle-safe.
 */
function errorChain(error: unknown): object[] {
  const seen = new Set<unknown>();
  const chain: object[] = [];
  let level: unknown[] = [error];
  for (let depth = 0; depth < 8 && level.length > 0; depth += 1) {
    const next: unknown[] = [];
    for (const link of level) {
      if (!link || typeof link !== 'object' || seen.has(link)) continue;
      seen.add(link);
      chain.push(link);
      const e = link as {
        cause?: unknown;
        driverError?: unknown;
        originalError?: unknown;
        errors?: unknown;
      };
      next.push(e.cause, e.driverError, e.originalError);
      if (Array.isArray(e.errors)) next.push(...(e.errors as unknown[]));
    }
    level = next;
  }
  return chain;
}

/**
 * Classifies a failure by the first link of its cause chain that is decisive; anything not known
 * to be transient is permanent (so a bug cannot stall a partition forever: it is retried a few
 * times, then dead-lettered).
 */
export function classifyFailure(error: unknown): FailureClass {
  for (const link of errorChain(error)) {
    const verdict = classifyOne(link);
    if (verdict) return verdict;
  }
  return 'permanent';
}

export function isTransientFailure(error: unknown): boolean {
  return classifyFailure(error) === 'transient';
}

/** kafkajs protocol error types (Kafka error codes 10, 18, 87, 32) that are about the record. */
const PERMANENT_KAFKA_TYPES: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
]);

interface PublishErrorLike {
  name?: unknown;
  type?: unknown;
  status?: unknown;
  message?: unknown;
}

/** The outbox relay's decision: permanent only when some link says the record itself is refused. */
export function classifyPublishFailure(error: unknown): PublishFailureKind {
  for (const link of errorChain(error)) {
    const e = link as PublishErrorLike;
    if (typeof e.type === 'string' && PERMANENT_KAFKA_TYPES.has(e.type)) return 'permanent';
    // The relay ships bytes encoded at write time, so it does not call the registry today; a
    // registry's incompatible-schema refusal (HTTP 409) is permanent if a future path does.
    if (e.name === 'IncompatibleSchemaError' || e.status === 409) return 'permanent';
  }
  return 'transient';
}

/** A short, storable description: kafkajs type and message of the innermost broker error. */
export function describePublishFailure(error: unknown): string {
  const typed = errorChain(error).find((e) => typeof (e as PublishErrorLike).type === 'string') as
    PublishErrorLike | undefined;
  const outer = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const inner = typed ? `${String(typed.type)}: ${String(typed.message ?? '')}` : undefined;
  const text = inner && !outer.includes(inner) ? `${outer} (${inner})` : outer;
  return text.slice(0, 2000);
}
