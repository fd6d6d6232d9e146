import {
  periodAfter,
  periodContaining,
  periodFinder,
  periodLabel,
  periodSeconds,
} from './billing-period';

const HOUR = 3600n;

describe('billing periods', () => {
  it('are calendar months in UTC when the subscription names no zone', () => {
    const p = periodContaining(new Date('2026-03-15T12:00:00Z'));
    expect(p.start.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(periodSeconds(p)).toBe(744n * HOUR);
    expect(periodContaining(new Date('2026-04-01T00:00:00Z')).start.toISOString()).toBe(
      '2026-04-01T00:00:00.000Z',
    );
  });

  it('follow local midnight in a zone, across the spring daylight-saving change', () => {
    const p = periodContaining(new Date('2026-03-15T12:00:00Z'), 'Europe/Berlin');
    expect(p.start.toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-03-31T22:00:00.000Z');
    expect(periodSeconds(p)).toBe(743n * HOUR);
    expect(periodLabel(p, 'Europe/Berlin')).toBe('2026-03');
    // 23:30 UTC on 31 March is already April in Berlin.
    expect(
      periodContaining(new Date('2026-03-31T22:30:00Z'), 'Europe/Berlin').start.toISOString(),
    ).toBe('2026-03-31T22:00:00.000Z');
  });

  it('are an hour longer across the autumn change', () => {
    const p = periodContaining(new Date('2026-10-10T00:00:00Z'), 'America/New_York');
    expect(periodSeconds(p)).toBe((31n * 24n + 0n) * HOUR); // US change is in November
    const nov = periodAfter(p, 'America/New_York');
    expect(periodSeconds(nov)).toBe((30n * 24n + 1n) * HOUR);
    expect(nov.start.toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(nov.end.toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });

  it('refuses an unknown zone', () => {
    expect(() => periodContaining(new Date(), 'Mars/Olympus')).toThrow(/time zone/);
    // Also after a valid zone was seen (valid zones are remembered).
    periodContaining(new Date(), 'Europe/Berlin');
    expect(() => periodContaining(new Date(), 'Mars/Olympus')).toThrow(/time zone/);
  });

  it('are found for many instants as periodContaining finds them, across boundaries and in both directions', () => {
    const zone = 'Europe/Berlin';
    const find = periodFinder(zone);
    // Local midnight of 1 April in Berlin is 31 March 22:00 UTC (summer time).
    const instants = [
      '2026-03-31T21:59:59.999Z',
      '2026-03-31T22:00:00.000Z',
      '2026-03-15T00:00:00.000Z',
      '2026-04-30T21:59:59.999Z',
      '2026-04-30T22:00:00.000Z',
      '2026-04-10T12:00:00.000Z',
    ].map((iso) => new Date(iso));
    for (const instant of instants) {
      const found = find(instant);
      const expected = periodContaining(instant, zone);
      expect([found.start.toISOString(), found.end.toISOString()]).toEqual([
        expected.start.toISOString(),
        expected.end.toISOString(),
      ]);
    }
    expect(find(instants[1]!)).toBe(find(instants[5]!));
  });
});
