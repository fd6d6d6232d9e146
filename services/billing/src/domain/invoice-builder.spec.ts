import { periodContaining } from './billing-period';
import { buildInvoice } from './invoice-builder';
import type { PlanVersion } from './plan';
import { classifyPlanChange } from './plan';

const team: PlanVersion = {
  code: 'team',
  version: 1,
  name: 'Team',
  currency: 'USD',
  seatPriceMinor: 1200n,
  includedApiCalls: 1000n,
  overagePer1000Minor: 50n,
  trialDays: 14,
};

describe('invoice building', () => {
  const period = periodContaining(new Date('2026-03-10T00:00:00Z'));
  const base = {
    plan: team,
    period,
    periodLabel: '2026-03',
    chargeFrom: period.start,
    chargeUntil: period.end,
    seats: 3,
    apiCalls: 0n,
    lateUsage: [],
    pending: [],
  };

  it('charges seats, usage over the allowance, late usage and prorations as lines', () => {
    const invoice = buildInvoice({
      ...base,
      apiCalls: 3500n,
      lateUsage: [
        {
          periodLabel: '2026-02',
          invoiceNumber: 'INV-000001',
          alreadyBilledCalls: 900n,
          lateCalls: 300n,
          includedApiCalls: 1000n,
          overagePer1000Minor: 50n,
        },
      ],
      pending: [
        {
          kind: 'proration-credit',
          description: 'Free -> Team on 2026-03-11',
          quantity: 3n,
          unitAmountMinor: -1200n,
          amountMinor: -1161n,
          currency: 'USD',
        },
      ],
    });
    expect(invoice.lines.map((l) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['seats', 3n, 3600n],
      // 2500 over at 0.50 per 1000 = 125
      ['usage-overage', 2500n, 125n],
      // 200 of the 300 late calls are over the allowance: round(200 * 50 / 1000) = 10
      ['late-usage', 300n, 10n],
      ['proration-credit', 3n, -1161n],
    ]);
    expect(invoice.totalMinor).toBe(3600n + 125n + 10n - 1161n);
    expect(invoice.lines[2]?.description).toMatch(/Late usage for 2026-02 \(after INV-000001\)/);
  });

  it('prorates seats for a subscription that started in the period', () => {
    const invoice = buildInvoice({
      ...base,
      seats: 1,
      chargeFrom: new Date('2026-03-11T00:00:00Z'),
    });
    // 1200 * 21 / 31 = 812.9
    expect(invoice.lines[0]?.amountMinor).toBe(813n);
  });

  it('refuses a pending charge in another currency', () => {
    expect(() =>
      buildInvoice({
        ...base,
        pending: [
          {
            kind: 'proration-credit',
            description: 'x',
            quantity: 1n,
            unitAmountMinor: 1n,
            amountMinor: 1n,
            currency: 'EUR',
          },
        ],
      }),
    ).toThrow(/cannot combine/);
  });

  it('classifies plan changes by price, then allowance', () => {
    const business = { ...team, code: 'business', seatPriceMinor: 3900n };
    expect(classifyPlanChange(team, business)).toBe('upgrade');
    expect(classifyPlanChange(business, team)).toBe('downgrade');
    expect(classifyPlanChange(team, team)).toBe('same');
    expect(() => classifyPlanChange(team, { ...business, currency: 'EUR' })).toThrow();
  });
});
