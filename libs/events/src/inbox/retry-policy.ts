export interface RetryPolicy {
  /** Handler attempts before an event goes to the DLQ. */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  initialDelayMs: 200,
  maxDelayMs: 5000,
};

export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const exponential = policy.initialDelayMs * 2 ** Math.max(0, attempt - 1);
  // Full jitter keeps replicas that failed together from retrying together.
  return Math.round(Math.min(policy.maxDelayMs, exponential) * (0.5 + Math.random() / 2));
}

/** Errors that say the infrastructure is down, not that the event is bad: never dead-lettered. */
export function isTransientInfrastructureError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  // Connection refused/reset, and PostgreSQL classes 08 (connection), 53 (resources),
  // 57P0x (shutdown), 40001/40P01 (serialization failure, deadlock).
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '40001', '40P01'].includes(code) ||
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57P0')
  );
}
