import type { SeatEvent } from './seat-count';
import { peakSeats, seatsAt } from './seat-count';

const at = (iso: string): Date => new Date(iso);

describe('seat counting: the most members at one time in the period', () => {
  const start = at('2026-03-01T00:00:00Z');
  const end = at('2026-04-01T00:00:00Z');

  it('counts members carried in, then the peak inside the period', () => {
    const events: SeatEvent[] = [
      { userId: 'a', kind: 'added', at: at('2026-02-01T00:00:00Z') },
      { userId: 'b', kind: 'added', at: at('2026-02-02T00:00:00Z') },
      { userId: 'b', kind: 'removed', at: at('2026-03-05T00:00:00Z') },
      { userId: 'c', kind: 'added', at: at('2026-03-10T00:00:00Z') },
      { userId: 'd', kind: 'added', at: at('2026-03-11T00:00:00Z') },
      { userId: 'd', kind: 'removed', at: at('2026-03-12T00:00:00Z') },
      { userId: 'e', kind: 'added', at: at('2026-04-02T00:00:00Z') },
    ];
    expect(peakSeats(events, start, end)).toBe(3);
    expect(seatsAt(events, at('2026-03-31T00:00:00Z'))).toBe(2);
  });

  it('gives the same answer whatever order the events arrived in, and counts a user once', () => {
    const events: SeatEvent[] = [
      { userId: 'a', kind: 'removed', at: at('2026-03-20T00:00:00Z') },
      { userId: 'a', kind: 'added', at: at('2026-03-02T00:00:00Z') },
      { userId: 'a', kind: 'added', at: at('2026-03-03T00:00:00Z') },
    ];
    expect(peakSeats(events, start, end)).toBe(1);
    expect(peakSeats([...events].reverse(), start, end)).toBe(1);
    expect(seatsAt(events, end)).toBe(0);
  });
});
