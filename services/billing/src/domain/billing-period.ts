import { DateTime, IANAZone } from 'luxon';

/** A half-open billing period [start, end). */
export interface BillingPeriod {
  readonly start: Date;
  readonly end: Date;
}

export const UTC = 'UTC';

export class InvalidTimeZoneError extends Error {
  constructor(zone: string) {
    super(`unknown IANA time zone ${JSON.stringify(zone)}`);
    this.name = 'InvalidTimeZoneError';
  }
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/**
 * Zones found valid: luxon's check builds an Intl.DateTimeFormat each time, which was a fifth of
 * usage ingestion's CPU when asked per event. IANA names are a few hundred, so this stays small.
 */
const validZones = new Set<string>([UTC]);

function zoneOf(timeZone: string | null | undefined): string {
  const zone = timeZone ?? UTC;
  if (validZones.has(zone)) return zone;
  if (!IANAZone.isValidZone(zone)) throw new InvalidTimeZoneError(zone);
  validZones.add(zone);
  return zone;
}

/**
 * The calendar month containing `instant`, from local midnight on the 1st to local midnight on
 * the 1st of the next month, in the subscription's time zone (UTC when it names none). A month
 * that crosses a daylight-saving change is an hour shorter or longer; proration divides by the
 * period's real length, so that hour is neither lost nor invented.
 */
export function periodContaining(instant: Date, timeZone?: string | null): BillingPeriod {
  const local = DateTime.fromJSDate(instant, { zone: zoneOf(timeZone) });
  const start = local.startOf('month');
  const end = start.plus({ months: 1 });
  return { start: start.toJSDate(), end: end.toJSDate() };
}

/**
 * `periodContaining` for many instants of one zone (a batch of usage events): the last period is
 * reused while the instants fall inside it, so luxon runs once per period, not once per event.
 */
export function periodFinder(timeZone?: string | null): (instant: Date) => BillingPeriod {
  let last: BillingPeriod | undefined;
  return (instant) => {
    const t = instant.getTime();
    if (last && t >= last.start.getTime() && t < last.end.getTime()) return last;
    last = periodContaining(instant, timeZone);
    return last;
  };
}

/** The period right after `period` (same zone). */
export function periodAfter(period: BillingPeriod, timeZone?: string | null): BillingPeriod {
  return periodContaining(period.end, timeZone);
}

/** Whole seconds in [from, to), clamped to >= 0; proration counts in seconds. */
export function secondsBetween(from: Date, to: Date): bigint {
  const ms = to.getTime() - from.getTime();
  return ms <= 0 ? 0n : BigInt(Math.floor(ms / 1000));
}

export function periodSeconds(period: BillingPeriod): bigint {
  return secondsBetween(period.start, period.end);
}

/** `2026-03` in the period's zone, for labels. */
export function periodLabel(period: BillingPeriod, timeZone?: string | null): string {
  return DateTime.fromJSDate(period.start, { zone: zoneOf(timeZone) }).toFormat('yyyy-MM');
}
