/**
 * `permanent`: the broker (or registry) refused this very record and will refuse it again, so
 * retrying cannot help; the relay may set the row aside. `transient`: anything else (broker down,
 * leader moving, timeouts, unknown errors): retry with backoff, never set aside. Unknown errors
 * count as transient on purpose: wrongly blocking is visible and recoverable, wrongly setting an
 * event aside loses it from the stream.
 */
export type PublishFailureKind = 'permanent' | 'transient';

/** kafkajs protocol error types (Kafka error codes 10, 18, 87, 32) that are about the record. */
const PERMANENT_KAFKA_TYPES: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
]);

interface ErrorLike {
  name?: unknown;
  type?: unknown;
  status?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and every error it wraps (kafkajs nests the broker's error in `cause`). */
function errorChain(error: unknown, seen = new Set<unknown>()): ErrorLike[] {
  if (error === null || typeof error !== 'object' || seen.has(error)) return [];
  seen.add(error);
  const e = error as ErrorLike;
  const nested = Array.isArray(e.errors) ? e.errors : [];
  return [e, ...errorChain(e.cause, seen), ...nested.flatMap((n) => errorChain(n, seen))];
}

export function classifyPublishFailure(error: unknown): PublishFailureKind {
  for (const e of errorChain(error)) {
    if (typeof e.type === 'string' && PERMANENT_KAFKA_TYPES.has(e.type)) return 'permanent';
    // The relay ships bytes encoded at write time, so it does not call the registry today; a
    // registry's incompatible-schema refusal (HTTP 409) is permanent if a future path does.
    if (e.name === 'IncompatibleSchemaError' || e.status === 409) return 'permanent';
  }
  return 'transient';
}

/** A short, storable description: kafkajs type and message of the innermost broker error. */
export function describePublishFailure(error: unknown): string {
  const chain = errorChain(error);
  const typed = chain.find((e) => typeof e.type === 'string');
  const outer = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const inner = typed
    ? `${String(typed.type)}: ${String((typed as { message?: unknown }).message ?? '')}`
    : undefined;
  const text = inner && !outer.includes(inner) ? `${outer} (${inner})` : outer;
  return text.slice(0, 2000);
}
