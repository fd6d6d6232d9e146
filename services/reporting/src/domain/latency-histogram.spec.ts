import fc from 'fast-check';
import {
  LATENCY_BUCKET_COUNT,
  addHistogram,
  bucketUpperBoundMs,
  emptyHistogram,
  latencyBucket,
  percentileMs,
} from './latency-histogram';

function histogramOf(latencies: readonly number[]): number[] {
  const h = emptyHistogram();
  for (const l of latencies) h[latencyBucket(l)] = (h[latencyBucket(l)] ?? 0) + 1;
  return h;
}

function exactPercentile(latencies: readonly number[], p: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

describe('latency histogram', () => {
  it('puts a latency in the bucket whose bounds hold it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1)).toBe(0);
    expect(latencyBucket(1.01)).toBe(1);
    expect(latencyBucket(2)).toBe(4);
    expect(latencyBucket(2.01)).toBe(5);
    expect(latencyBucket(-5)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(10 ** 9)).toBe(LATENCY_BUCKET_COUNT - 1);
    for (const l of [1.5, 3, 7.2, 100, 999, 12_345]) {
      const b = latencyBucket(l);
      expect(l).toBeLessThanOrEqual(bucketUpperBoundMs(b));
      expect(l).toBeGreaterThan(bucketUpperBoundMs(b - 1));
    }
  });

  it('has no percentile without calls', () => {
    expect(percentileMs(emptyHistogram(), 0.5, 0)).toBeNull();
  });

  it('never reports more than the largest latency seen', () => {
    expect(percentileMs(histogramOf([3, 3, 3]), 0.99, 3)).toBe(3);
  });

  it('estimates percentiles within one bucket (19%) of the exact value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.95, 0.99),
        (latencies, p) => {
          const exact = exactPercentile(latencies, p);
          const estimate = percentileMs(histogramOf(latencies), p, Math.max(...latencies));
          expect(estimate).not.toBeNull();
          const upper = bucketUpperBoundMs(latencyBucket(exact));
          const lower =
            latencyBucket(exact) === 0 ? 0 : bucketUpperBoundMs(latencyBucket(exact) - 1);
          expect(estimate as number).toBeGreaterThanOrEqual(lower - 1e-3);
          expect(estimate as number).toBeLessThanOrEqual(upper + 1e-3);
        },
      ),
    );
  });

  it('adds up in any order to the histogram of all the latencies', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { maxLength: 20 }), {
          maxLength: 10,
        }),
        (parts) => {
          const merged = parts.reduce(
            (acc, part) => addHistogram(acc, histogramOf(part)),
            emptyHistogram(),
          );
          const reversed = [...parts]
            .reverse()
            .reduce((acc, part) => addHistogram(acc, histogramOf(part)), emptyHistogram());
          expect(merged).toEqual(histogramOf(parts.flat()));
          expect(reversed).toEqual(merged);
        },
      ),
    );
  });
});
