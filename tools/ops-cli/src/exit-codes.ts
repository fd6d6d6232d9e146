/** What the process exits with; scripts around the CLI branch on these. */
export const EXIT = {
  ok: 0,
  /** The platform answered but refused or failed (4xx/5xx, a Kafka error, an aborted delete). */
  failed: 1,
  /** The command line is wrong (commander's own errors, missing configuration). */
  usage: 2,
  /** Nothing answered: the gateway, Kafka, Zipkin or a metrics endpoint is unreachable. */
  unreachable: 3,
} as const;

/** The platform answered and said no, or the operation failed. */
export class OperationFailedError extends Error {
  override readonly name = 'OperationFailedError';
  constructor(
    message: string,
    /** The RFC 9457 problem the platform answered with, if any. */
    readonly problem?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** The command cannot run as given (e.g. no operator credential in the environment). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** No answer from a platform endpoint (refused, DNS, timeout). */
export class PlatformUnreachableError extends Error {
  override readonly name = 'PlatformUnreachableError';
}

const KAFKA_UNREACHABLE = /^KafkaJS(Connection|NumberOfRetriesExceeded|BrokerNotFound)/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

function networkCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error from Kafka or a fetch means "nobody answered". */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof PlatformUnreachableError) return true;
  if (!(error instanceof Error)) return false;
  return KAFKA_UNREACHABLE.test(error.name) || networkCodeOf(error) !== undefined;
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (isUnreachable(error)) return EXIT.unreachable;
  return EXIT.failed;
}
