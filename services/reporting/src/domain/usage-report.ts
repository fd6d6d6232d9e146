import { addHistogram, emptyHistogram, percentileMs } from './latency-histogram';
import type { ReportRange } from './report-range';
import { bucketStarts } from './report-range';
import type { StatusClass } from './usage-dimensions';
import { STATUS_CLASSES } from './usage-dimensions';

/** What the report needs of one stored bucket row. */
export interface UsageRow {
  readonly bucketStart: Date;
  readonly routeGroup: string;
  readonly statusClass: StatusClass;
  readonly calls: number;
  readonly serverErrors: number;
  readonly latencySumUs: number;
  readonly latencyMaxMs: number;
  readonly histogram: readonly number[];
}

export interface LatencySummary {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

export interface UsageFigures {
  readonly calls: number;
  readonly serverErrors: number;
  readonly clientErrors: number;
  readonly byStatusClass: Record<StatusClass, number>;
  readonly latencyMs: LatencySummary;
}

class Accumulator {
  calls = 0;
  serverErrors = 0;
  latencySumUs = 0;
  latencyMaxMs = 0;
  readonly byStatusClass = Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<
    StatusClass,
    number
  >;
  readonly histogram = emptyHistogram();

  add(row: UsageRow): void {
    this.calls += row.calls;
    this.serverErrors += row.serverErrors;
    this.latencySumUs += row.latencySumUs;
    this.latencyMaxMs = Math.max(this.latencyMaxMs, row.latencyMaxMs);
    this.byStatusClass[row.statusClass] += row.calls;
    addHistogram(this.histogram, row.histogram);
  }

  figures(): UsageFigures {
    const some = this.calls > 0;
    return {
      calls: this.calls,
      serverErrors: this.serverErrors,
      clientErrors: this.byStatusClass['4xx'],
      byStatusClass: { ...this.byStatusClass },
      latencyMs: {
        p50: percentileMs(this.histogram, 0.5, this.latencyMaxMs),
        p95: percentileMs(this.histogram, 0.95, this.latencyMaxMs),
        p99: percentileMs(this.histogram, 0.99, this.latencyMaxMs),
        max: some ? this.latencyMaxMs : null,
        mean: some ? Math.round(this.latencySumUs / this.calls) / 1000 : null,
      },
    };
  }
}

export interface UsageReport {
  readonly totals: UsageFigures;
  /** Every bucket of the range, oldest first, empty ones included. */
  readonly buckets: ({ readonly start: string } & UsageFigures)[];
  /** Per route group over the whole range, busiest first. */
  readonly routeGroups: ({ readonly routeGroup: string } & UsageFigures)[];
}

/** Adds stored bucket rows up to the report: series, totals and route groups. */
export function usageReport(range: ReportRange, rows: readonly UsageRow[]): UsageReport {
  const total = new Accumulator();
  const byBucket = new Map<number, Accumulator>();
  const byGroup = new Map<string, Accumulator>();
  for (const row of rows) {
    total.add(row);
    const t = row.bucketStart.getTime();
    if (!byBucket.has(t)) byBucket.set(t, new Accumulator());
    byBucket.get(t)?.add(row);
    if (!byGroup.has(row.routeGroup)) byGroup.set(row.routeGroup, new Accumulator());
    byGroup.get(row.routeGroup)?.add(row);
  }
  return {
    totals: total.figures(),
    buckets: bucketStarts(range).map((start) => ({
      start: start.toISOString(),
      ...(byBucket.get(start.getTime()) ?? new Accumulator()).figures(),
    })),
    routeGroups: [...byGroup.entries()]
      .map(([routeGroup, acc]) => ({ routeGroup, ...acc.figures() }))
      .sort((a, b) => b.calls - a.calls || a.routeGroup.localeCompare(b.routeGroup)),
  };
}
