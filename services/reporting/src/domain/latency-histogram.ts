/**
 * Latency histograms with fixed, log-spaced buckets, so buckets of any hours, route groups and
 * tenants add up element by element (order-free, like the counts) and percentiles come from
 * the sums without raw events.
 *
 * Bucket 0 holds [0, 1] ms; bucket i (1..BUCKETS-2) holds (2^((i-1)/4), 2^(i/4)] ms, four per
 * doubling (each bound 19% above the previous one); the last bucket holds everything above
 * 2^17 ms (about 131 s). A percentile is interpolated inside its bucket, so its error is below
 * one bucket's width (under 19% of the value), and never above the largest latency seen.
 */
export const BUCKETS_PER_DOUBLING = 4;
export const LATENCY_BUCKET_COUNT = 17 * BUCKETS_PER_DOUBLING + 2;

/** Upper bound (ms) of bucket `index`; the overflow bucket has none. */
export function bucketUpperBoundMs(index: number): number {
  if (index >= LATENCY_BUCKET_COUNT - 1) return Number.POSITIVE_INFINITY;
  return 2 ** (index / BUCKETS_PER_DOUBLING);
}

function bucketLowerBoundMs(index: number): number {
  return index === 0 ? 0 : bucketUpperBoundMs(index - 1);
}

/** The bucket a latency falls in (negative or non-finite latencies count as 0 ms). */
export function latencyBucket(latencyMs: number): number {
  if (!Number.isFinite(latencyMs) || latencyMs <= 1) {
    return latencyMs === Number.POSITIVE_INFINITY ? LATENCY_BUCKET_COUNT - 1 : 0;
  }
  const index = Math.ceil(Math.log2(latencyMs) * BUCKETS_PER_DOUBLING - 1e-9);
  return Math.min(Math.max(index, 1), LATENCY_BUCKET_COUNT - 1);
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/** Adds `from` into `into` element by element (both of LATENCY_BUCKET_COUNT entries). */
export function addHistogram(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/**
 * The `p`-quantile (0 < p <= 1) of the latencies counted in `histogram`: the bucket holding the
 * rank ceil(p * n), interpolated linearly inside it and capped at `maxMs`, the largest latency
 * seen. Null when nothing was counted.
 */
export function percentileMs(
  histogram: readonly number[],
  p: number,
  maxMs: number,
): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let below = 0;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) {
    const n = histogram[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const lower = bucketLowerBoundMs(i);
      const upper = Math.min(bucketUpperBoundMs(i), Math.max(maxMs, lower));
      const value = lower + ((upper - lower) * (rank - below)) / n;
      return Math.round(Math.min(value, maxMs) * 1000) / 1000;
    }
    below += n;
  }
  return maxMs;
}
