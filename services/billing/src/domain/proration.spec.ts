import { periodContaining } from './billing-period';
import { prorateToPeriodEnd, upgradeProrationCredit } from './proration';

describe('upgrade proration', () => {
  const cases = [
    {
      name: 'USD, 10 of 31 days, UTC',
      old: 1200n,
      next: 3900n,
      seats: 3n,
      zone: null,
      at: '2026-03-11T00:00:00Z',
      // 2700 * 3 * 864000 / 2678400 = 2612.90...
      credit: -2613n,
    },
    {
      name: 'EUR, 14.5 of 28 days, UTC',
      old: 1000n,
      next: 2500n,
      seats: 2n,
      zone: null,
      at: '2026-02-15T12:00:00Z',
      // 1500 * 2 * 1252800 / 2419200 = 1553.57...
      credit: -1554n,
    },
    {
      name: 'JPY (no minor digits), Asia/Tokyo',
      old: 1000n,
      next: 3000n,
      seats: 1n,
      zone: 'Asia/Tokyo',
      at: '2026-04-15T18:00:00Z',
      // 2000 * (15 d 3 h) / 30 d = 1008.33...
      credit: -1008n,
    },
    {
      name: 'KWD (three minor digits), Europe/Berlin across the DST change',
      old: 5000n,
      next: 12500n,
      seats: 7n,
      zone: 'Europe/Berlin',
      at: '2026-03-29T22:00:00Z',
      // 7500 * 7 * 695 h / 743 h = 49108.34...
      credit: -49108n,
    },
    {
      name: 'at the period start: the whole period on the new plan',
      old: 1200n,
      next: 3900n,
      seats: 1n,
      zone: null,
      at: '2026-03-01T00:00:00Z',
      credit: 0n,
    },
  ];

  it.each(cases)('$name', ({ old, next, seats, zone, at, credit }) => {
    const changedAt = new Date(at);
    const period = periodContaining(changedAt, zone);
    expect(
      upgradeProrationCredit({
        oldSeatPriceMinor: old,
        newSeatPriceMinor: next,
        seats,
        period,
        changedAt,
      }),
    ).toBe(credit);
  });

  it('credits only time that was charged: nothing spent in a trial', () => {
    const changedAt = new Date('2026-03-11T00:00:00Z');
    const period = periodContaining(changedAt);
    const input = {
      oldSeatPriceMinor: 1200n,
      newSeatPriceMinor: 3900n,
      seats: 1n,
      period,
      changedAt,
    };
    expect(
      upgradeProrationCredit({ ...input, chargedFrom: new Date('2026-03-15T00:00:00Z') }),
    ).toBe(0n);
    // 2700 * 4 / 31 days = 348.4
    expect(
      upgradeProrationCredit({ ...input, chargedFrom: new Date('2026-03-07T00:00:00Z') }),
    ).toBe(-348n);
  });

  it('credits nothing for a downgrade (it waits for the period end)', () => {
    const changedAt = new Date('2026-03-11T00:00:00Z');
    expect(
      upgradeProrationCredit({
        oldSeatPriceMinor: 3900n,
        newSeatPriceMinor: 1200n,
        seats: 3n,
        period: periodContaining(changedAt),
        changedAt,
      }),
    ).toBe(0n);
  });

  it('the credit plus the new plan’s full charge equals old-then-new to the minor unit', () => {
    const changedAt = new Date('2026-03-11T00:00:00Z');
    const period = periodContaining(changedAt);
    const credit = upgradeProrationCredit({
      oldSeatPriceMinor: 1200n,
      newSeatPriceMinor: 3900n,
      seats: 1n,
      period,
      changedAt,
    });
    // old for 10 days + new for 21 days = 1200*10/31 + 3900*21/31 = 387.1 + 2641.9 = 3029
    expect(3900n + credit).toBe(3029n);
    expect(prorateToPeriodEnd(3100n, period, changedAt)).toBe(2100n);
  });
});
