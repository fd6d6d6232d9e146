import { isTransientFailure } from '../faults/failure-classifier';

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

/**
 * Backoff while a dependency is down: the partition stays paused between attempts, without
 * limit, since an outage must not empty a topic into its DLQ.
 */
export interface OutageBackoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_OUTAGE_BACKOFF: OutageBackoff = { initialDelayMs: 250, maxDelayMs: 30_000 };

/** Errors that say the infrastructure is down, not that the event is bad: never dead-lettered. */
export function isTransientInfrastructureError(error: unknown): boolean {
  return isTransientFailure(error);
}
