import { CurrencyMismatchError } from './money';

/** One version of a catalogue plan, amounts in minor units of its currency. */
export interface PlanVersion {
  readonly code: string;
  readonly version: number;
  readonly name: string;
  readonly currency: string;
  readonly seatPriceMinor: bigint;
  readonly includedApiCalls: bigint;
  readonly overagePer1000Minor: bigint;
  readonly trialDays: number;
}

export type PlanChangeKind = 'upgrade' | 'downgrade' | 'same';

/**
 * Upgrade or downgrade: a higher seat price is an upgrade; at the same price, a larger
 * allowance is. A change across currencies is refused: one subscription bills in one currency.
 */
export function classifyPlanChange(current: PlanVersion, target: PlanVersion): PlanChangeKind {
  if (current.currency !== target.currency) {
    throw new CurrencyMismatchError(current.currency, target.currency);
  }
  if (current.code === target.code && current.version === target.version) return 'same';
  if (target.seatPriceMinor !== current.seatPriceMinor) {
    return target.seatPriceMinor > current.seatPriceMinor ? 'upgrade' : 'downgrade';
  }
  if (target.includedApiCalls !== current.includedApiCalls) {
    return target.includedApiCalls > current.includedApiCalls ? 'upgrade' : 'downgrade';
  }
  return target.overagePer1000Minor < current.overagePer1000Minor ? 'upgrade' : 'downgrade';
}

export function isPaidPlan(plan: PlanVersion): boolean {
  return plan.seatPriceMinor > 0n;
}
