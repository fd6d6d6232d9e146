import { addMoney, formatMoney, money, mulDivRound, toSafeNumber } from './money';

describe('money', () => {
  it('rounds once, half away from zero', () => {
    expect(mulDivRound(5n, 1n, 2n)).toBe(3n);
    expect(mulDivRound(-5n, 1n, 2n)).toBe(-3n);
    expect(mulDivRound(4n, 1n, 3n)).toBe(1n);
    expect(mulDivRound(10n, 2n, 3n)).toBe(7n);
    expect(mulDivRound(0n, 5n, 7n)).toBe(0n);
  });

  it('formats by the currency’s exponent without floating point', () => {
    expect(formatMoney(money(123456789012345678n, 'USD'))).toBe('1234567890123456.78 USD');
    expect(formatMoney(money(5, 'USD'))).toBe('0.05 USD');
    expect(formatMoney(money(-1200, 'EUR'))).toBe('-12.00 EUR');
    expect(formatMoney(money(1234, 'JPY'))).toBe('1234 JPY');
    expect(formatMoney(money(1234, 'KWD'))).toBe('1.234 KWD');
  });

  it('refuses fractions, unknown codes and mixed currencies', () => {
    expect(() => money(1.5, 'USD')).toThrow(RangeError);
    expect(() => money(1, 'usd')).toThrow(RangeError);
    expect(() => addMoney(money(1, 'USD'), money(1, 'EUR'))).toThrow(/cannot combine/);
    expect(() => toSafeNumber(2n ** 60n)).toThrow(RangeError);
  });
});
