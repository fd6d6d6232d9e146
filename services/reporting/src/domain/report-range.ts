/** A report's time range, cut into whole UTC buckets of one granularity. */
export type Granularity = 'hour' | 'day';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const BUCKET_MS: Readonly<Record<Granularity, number>> = { hour: HOUR_MS, day: DAY_MS };

/** Longest range per granularity: 31 days of hours (744 buckets), 400 days of days. */
export const MAX_RANGE_MS: Readonly<Record<Granularity, number>> = {
  hour: 31 * DAY_MS,
  day: 400 * DAY_MS,
};

export interface ReportRange {
  readonly from: Date;
  readonly to: Date;
  readonly granularity: Granularity;
}

export type RangeCheck =
  | { readonly ok: true; readonly range: ReportRange }
  | { readonly ok: false; readonly reason: string };

/**
 * Widens [from, to) to whole buckets (from down, to up: a bucket is never cut) and checks it:
 * from before to, and no longer than the granularity allows.
 */
export function reportRange(from: Date, to: Date, granularity: Granularity): RangeCheck {
  if (!(from.getTime() < to.getTime())) return { ok: false, reason: '`from` must be before `to`.' };
  const size = BUCKET_MS[granularity];
  const start = Math.floor(from.getTime() / size) * size;
  const end = Math.ceil(to.getTime() / size) * size;
  if (end - start > MAX_RANGE_MS[granularity]) {
    return {
      ok: false,
      reason: `A ${granularity} report covers at most ${MAX_RANGE_MS[granularity] / DAY_MS} days.`,
    };
  }
  return { ok: true, range: { from: new Date(start), to: new Date(end), granularity } };
}

/** Start of every bucket in the range, oldest first. */
export function bucketStarts(range: ReportRange): Date[] {
  const size = BUCKET_MS[range.granularity];
  const starts: Date[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime(); t += size) starts.push(new Date(t));
  return starts;
}

/** Start of the UTC hour / day holding `at`. */
export function bucketStart(at: Date, granularity: Granularity): Date {
  const size = BUCKET_MS[granularity];
  return new Date(Math.floor(at.getTime() / size) * size);
}
