import { emptyHistogram, latencyBucket } from './latency-histogram';
import type { UsageRow } from './usage-report';
import { usageReport } from './usage-report';

function row(
  start: string,
  routeGroup: string,
  status: '2xx' | '4xx' | '5xx',
  latencies: number[],
): UsageRow {
  const histogram = emptyHistogram();
  for (const l of latencies) histogram[latencyBucket(l)] = (histogram[latencyBucket(l)] ?? 0) + 1;
  return {
    bucketStart: new Date(start),
    routeGroup,
    statusClass: status,
    calls: latencies.length,
    serverErrors: status === '5xx' ? latencies.length : 0,
    latencySumUs: latencies.reduce((s, l) => s + Math.round(l * 1000), 0),
    latencyMaxMs: Math.max(...latencies),
    histogram,
  };
}

describe('usage report', () => {
  const range = {
    from: new Date('2026-03-05T00:00:00Z'),
    to: new Date('2026-03-05T03:00:00Z'),
    granularity: 'hour' as const,
  };

  it('adds rows to a dense series, totals and busiest route groups', () => {
    const report = usageReport(range, [
      row('2026-03-05T00:00:00Z', 'members', '2xx', [10, 10, 10]),
      row('2026-03-05T00:00:00Z', 'members', '5xx', [100]),
      row('2026-03-05T02:00:00Z', 'billing', '4xx', [5]),
    ]);
    expect(report.buckets.map((b) => [b.start, b.calls])).toEqual([
      ['2026-03-05T00:00:00.000Z', 4],
      ['2026-03-05T01:00:00.000Z', 0],
      ['2026-03-05T02:00:00.000Z', 1],
    ]);
    expect(report.totals).toMatchObject({
      calls: 5,
      serverErrors: 1,
      clientErrors: 1,
      byStatusClass: { '2xx': 3, '4xx': 1, '5xx': 1 },
    });
    expect(report.totals.latencyMs.max).toBe(100);
    expect(report.totals.latencyMs.mean).toBe(27);
    expect(report.routeGroups.map((g) => [g.routeGroup, g.calls])).toEqual([
      ['members', 4],
      ['billing', 1],
    ]);
    expect(report.buckets[1]?.latencyMs).toEqual({
      p50: null,
      p95: null,
      p99: null,
      max: null,
      mean: null,
    });
  });

  it('takes percentiles from the summed histograms', () => {
    const fast = Array.from({ length: 90 }, () => 4);
    const slow = Array.from({ length: 10 }, () => 400);
    const report = usageReport(range, [
      row('2026-03-05T00:00:00Z', 'members', '2xx', fast),
      row('2026-03-05T01:00:00Z', 'members', '2xx', slow),
    ]);
    const { p50, p95, p99 } = report.totals.latencyMs;
    expect(p50).toBeGreaterThan(3.3);
    expect(p50).toBeLessThanOrEqual(4);
    expect(p95).toBeGreaterThan(336);
    expect(p95).toBeLessThanOrEqual(400);
    expect(p99).toBeLessThanOrEqual(400);
  });
});
