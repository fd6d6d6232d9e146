// Money is an integer count of minor units (bigint) with an explicit ISO 4217 currency. No
// floating point touches an amount: ratios are applied with integer arithmetic and one rounding.

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** Minor-unit exponents that differ from 2 (ISO 4217); every other currency has 2. */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  JPY: 0,
  KRW: 0,
  ISK: 0,
  VND: 0,
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
};

const CURRENCY = /^[A-Z]{3}$/;

export class CurrencyMismatchError extends Error {
  constructor(a: string, b: string) {
    super(`cannot combine ${a} and ${b}`);
    this.name = 'CurrencyMismatchError';
  }
}

export function currencyExponent(currency: string): number {
  if (!CURRENCY.test(currency)) throw new RangeError(`not an ISO 4217 code: ${currency}`);
  return EXPONENTS[currency] ?? 2;
}

export function money(amountMinor: bigint | number | string, currency: string): Money {
  currencyExponent(currency);
  if (typeof amountMinor === 'number' && !Number.isSafeInteger(amountMinor)) {
    throw new RangeError(`an amount in minor units is an integer, got ${amountMinor}`);
  }
  return { amountMinor: BigInt(amountMinor), currency };
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) throw new CurrencyMismatchError(a.currency, b.currency);
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency };
}

export function sumMoney(currency: string, amounts: readonly Money[]): Money {
  return amounts.reduce((sum, m) => addMoney(sum, m), money(0n, currency));
}

/**
 * `amount * numerator / denominator`, rounded once, half away from zero (so a credit and the
 * charge it mirrors round to the same magnitude).
 */
export function mulDivRound(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) throw new RangeError('numerator must not be negative');
  const negative = amount < 0n;
  const product = (negative ? -amount : amount) * numerator;
  const quotient = product / denominator;
  const remainder = product % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient;
  return negative ? -rounded : rounded;
}

/** `12.34 USD`, `1234 JPY`, `1.234 KWD`: exact, from the integer, never through a float. */
export function formatMoney(value: Money): string {
  const exponent = currencyExponent(value.currency);
  const negative = value.amountMinor < 0n;
  const digits = (negative ? -value.amountMinor : value.amountMinor)
    .toString()
    .padStart(exponent + 1, '0');
  const units =
    exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${units} ${value.currency}`;
}

/** A bigint amount as a JSON/Avro number; refuses what a double cannot hold exactly. */
export function toSafeNumber(amount: bigint): number {
  if (amount > BigInt(Number.MAX_SAFE_INTEGER) || amount < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${amount} exceeds the exactly representable range`);
  }
  return Number(amount);
}
