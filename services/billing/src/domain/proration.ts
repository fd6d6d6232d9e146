import type { BillingPeriod } from './billing-period';
import { periodSeconds, secondsBetween } from './billing-period';
import { mulDivRound } from './money';

/**
 * The share of a full-period amount for `[from, period.end)`:
 * round(amount * seconds(from, end) / seconds(period)), half away from zero.
 */
export function prorateToPeriodEnd(amount: bigint, period: BillingPeriod, from: Date): bigint {
  const clamped = from < period.start ? period.start : from > period.end ? period.end : from;
  return mulDivRound(amount, secondsBetween(clamped, period.end), periodSeconds(period));
}

/** The share of a full-period amount for `[period.start, until)`. */
export function prorateFromPeriodStart(amount: bigint, period: BillingPeriod, until: Date): bigint {
  const clamped = until < period.start ? period.start : until > period.end ? period.end : until;
  return mulDivRound(amount, secondsBetween(period.start, clamped), periodSeconds(period));
}

export interface UpgradeProration {
  readonly oldSeatPriceMinor: bigint;
  readonly newSeatPriceMinor: bigint;
  readonly seats: bigint;
  readonly period: BillingPeriod;
  readonly changedAt: Date;
  /** Seats are charged from here (a later start, the end of a trial); nothing before it. */
  readonly chargedFrom?: Date;
}

/**
 * Seats are billed in arrears at the plan in force when the period closes. An upgrade at
 * `changedAt` therefore owes the cheaper plan only for the time before it: the credit is
 * -round((new - old) * seats * seconds(chargedFrom, changedAt) / seconds(period)), chargedFrom being
 * the period start unless the subscription started or left its trial later. Several upgrades in
 * one period each credit their own step, and the steps add up.
 */
export function upgradeProrationCredit(input: UpgradeProration): bigint {
  const step = input.newSeatPriceMinor - input.oldSeatPriceMinor;
  if (step <= 0n) return 0n;
  const from =
    input.chargedFrom && input.chargedFrom > input.period.start
      ? input.chargedFrom
      : input.period.start;
  if (input.changedAt <= from) return 0n;
  const spent = mulDivRound(
    step * input.seats,
    secondsBetween(from, input.changedAt < input.period.end ? input.changedAt : input.period.end),
    periodSeconds(input.period),
  );
  return -spent;
}
