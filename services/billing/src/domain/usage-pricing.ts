import { mulDivRound } from './money';

/** Calls over the allowance, priced per 1,000: round(overage * price / 1000). */
export function overageAmount(calls: bigint, included: bigint, pricePer1000Minor: bigint): bigint {
  const over = calls > included ? calls - included : 0n;
  return mulDivRound(over, pricePer1000Minor, 1000n);
}

export function overageCalls(calls: bigint, included: bigint): bigint {
  return calls > included ? calls - included : 0n;
}

/**
 * Late usage for a period already invoiced is priced at the margin, against what that invoice
 * already counted: the allowance it used up is not granted twice, nor is the overage it charged.
 */
export function lateUsageAmount(
  alreadyBilledCalls: bigint,
  lateCalls: bigint,
  included: bigint,
  pricePer1000Minor: bigint,
): { readonly calls: bigint; readonly amountMinor: bigint } {
  const before = overageCalls(alreadyBilledCalls, included);
  const after = overageCalls(alreadyBilledCalls + lateCalls, included);
  return {
    calls: after - before,
    amountMinor:
      overageAmount(alreadyBilledCalls + lateCalls, included, pricePer1000Minor) -
      overageAmount(alreadyBilledCalls, included, pricePer1000Minor),
  };
}
