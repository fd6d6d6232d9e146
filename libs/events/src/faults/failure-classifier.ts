/**
 * `transient`: a dependency (registry, database, broker) is down or overloaded; the same event
 * will succeed later, so the consumer pauses and retries. `permanent`: the event itself cannot
 * succeed (undecodable, unknown schema, refused by its handler); it goes to the DLQ.
 */
export type FailureClass = 'transient' | 'permanent';

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

/** The next errors in the chain: standard `cause`, TypeORM's `driverError`, KafkaJS' `originalError`. */
function causesOf(error: object): unknown[] {
  const e = error as { cause?: unknown; driverError?: unknown; originalError?: unknown };
  return [e.cause, e.driverError, e.originalError];
}

/**
 * Classifies a failure by the first link of its cause chain that is decisive; anything not known
 * to be transient is permanent (so a bug cannot stall a partition forever: it is retried a few
 * times, then dead-lettered).
 */
export function classifyFailure(error: unknown): FailureClass {
  const seen = new Set<unknown>();
  let level: unknown[] = [error];
  for (let depth = 0; depth < 6 && level.length > 0; depth += 1) {
    const next: unknown[] = [];
    for (const link of level) {
      if (!link || typeof link !== 'object' || seen.has(link)) continue;
      seen.add(link);
      const verdict = classifyOne(link);
      if (verdict) return verdict;
      next.push(...causesOf(link));
    }
    level = next;
  }
  return 'permanent';
}

export function isTransientFailure(error: unknown): boolean {
  return classifyFailure(error) === 'transient';
}
