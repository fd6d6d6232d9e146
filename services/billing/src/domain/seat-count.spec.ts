import type { SeatEvent } from './seat-count';
import { peakSeats, peakSeatsInWindow, seatsAt } from './seat-count';

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

describe('seat counting from the members at the start and the changes inside the window', () => {
  const start = at('2026-03-01T00:00:00Z');
  const end = at('2026-04-01T00:00:00Z');
  const e = (userId: string, kind: SeatEvent['kind'], iso: string): SeatEvent => ({
    userId,
    kind,
    at: at(iso),
  });

  it('starts from the members carried in and takes the peak after each change', () => {
    const window = {
      membersAtStart: ['a', 'b'],
      events: [
        e('c', 'added', '2026-03-10T00:00:00Z'),
        e('b', 'removed', '2026-03-05T00:00:00Z'),
        e('d', 'added', '2026-03-11T00:00:00Z'),
        e('d', 'removed', '2026-03-12T00:00:00Z'),
      ],
    };
    expect(peakSeatsInWindow(window, start, end)).toBe(3);
    expect(peakSeatsInWindow({ membersAtStart: ['a', 'b'], events: [] }, start, end)).toBe(2);
    expect(peakSeatsInWindow({ membersAtStart: [], events: [] }, start, end)).toBe(0);
  });

  it('counts a user added and removed at one instant for that instant (additions first)', () => {
    const window = {
      membersAtStart: ['a'],
      events: [e('b', 'removed', '2026-03-05T00:00:00Z'), e('b', 'added', '2026-03-05T00:00:00Z')],
    };
    expect(peakSeatsInWindow(window, start, end)).toBe(2);
    // A removal of one user and an addition of another at one instant: the addition comes first.
    const swap = {
      membersAtStart: ['a'],
      events: [e('a', 'removed', '2026-03-05T00:00:00Z'), e('b', 'added', '2026-03-05T00:00:00Z')],
    };
    expect(peakSeatsInWindow(swap, start, end)).toBe(2);
  });

  it('counts a re-added member once and ignores the removal of a non-member', () => {
    const window = {
      membersAtStart: ['a'],
      events: [
        e('a', 'added', '2026-03-02T00:00:00Z'),
        e('x', 'removed', '2026-03-03T00:00:00Z'),
        e('a', 'added', '2026-03-04T00:00:00Z'),
      ],
    };
    expect(peakSeatsInWindow(window, start, end)).toBe(1);
  });

  it('takes changes at the start, not at the end or outside', () => {
    const window = {
      membersAtStart: [],
      events: [
        e('a', 'added', '2026-03-01T00:00:00Z'),
        e('b', 'added', '2026-04-01T00:00:00Z'),
        e('c', 'added', '2026-02-28T23:59:59.999Z'),
        e('a', 'removed', '2026-03-01T00:00:00.001Z'),
      ],
    };
    expect(peakSeatsInWindow(window, start, end)).toBe(1);
    // An empty window (seats right now) is the members at its start.
    expect(peakSeatsInWindow({ membersAtStart: ['a', 'b'], events: window.events }, end, end)).toBe(
      2,
    );
  });

  it('agrees with the fold over the whole history for random histories', () => {
    let seed = 7;
    // A small deterministic generator (xorshift32), so a failure can be replayed.
    const random = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const base = at('2026-03-01T00:00:00Z').getTime();
    for (let round = 0; round < 500; round++) {
      const history: SeatEvent[] = [];
      for (let i = random(30); i > 0; i--) {
        history.push({
          userId: `u${random(6)}`,
          kind: random(2) === 0 ? 'added' : 'removed',
          // Few distinct instants, so ties are common.
          at: new Date(base + random(12) * 1000),
        });
      }
      const from = new Date(base + random(14) * 1000 - 1000);
      const until = new Date(from.getTime() + random(8) * 1000);
      // The members at `from` as the repository computes them: each user's last change before it.
      const last = new Map<string, SeatEvent>();
      for (const ev of history.filter((h) => h.at < from)) {
        const prev = last.get(ev.userId);
        const later =
          !prev ||
          ev.at > prev.at ||
          (ev.at.getTime() === prev.at.getTime() && ev.kind === 'removed');
        if (later) last.set(ev.userId, ev);
      }
      const membersAtStart = [...last.values()]
        .filter((ev) => ev.kind === 'added')
        .map((ev) => ev.userId);
      const inside = history.filter((h) => h.at >= from && h.at < until);
      expect(peakSeatsInWindow({ membersAtStart, events: inside }, from, until)).toBe(
        peakSeats(history, from, until),
      );
    }
  });
});
