/** One membership change as identity reported it. */
export interface SeatEvent {
  readonly userId: string;
  readonly kind: 'added' | 'removed';
  readonly at: Date;
}

/**
 * Time ascending; at one instant additions before removals (a user added and removed at one
 * instant ends removed).
 */
function byTimeAddedFirst(a: SeatEvent, b: SeatEvent): number {
  return a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === 'added' ? -1 : 1);
}

/**
 * Seats of a period are the most members the tenant had at any one time in it: members at the
 * period start, then after each change inside the period. A user counts once however often they
 * are added. Events are ordered by their own time, not by arrival, so late or reordered events
 * give the same answer.
 */
export function peakSeats(events: readonly SeatEvent[], start: Date, end: Date): number {
  const sorted = [...events].sort(byTimeAddedFirst);
  const members = new Set<string>();
  let i = 0;
  for (; i < sorted.length && (sorted[i] as SeatEvent).at < start; i++) {
    const e = sorted[i] as SeatEvent;
    if (e.kind === 'added') members.add(e.userId);
    else members.delete(e.userId);
  }
  let peak = members.size;
  for (; i < sorted.length && (sorted[i] as SeatEvent).at < end; i++) {
    const e = sorted[i] as SeatEvent;
    if (e.kind === 'added') members.add(e.userId);
    else members.delete(e.userId);
    peak = Math.max(peak, members.size);
  }
  return peak;
}

/** Members right now (at `at`). */
export function seatsAt(events: readonly SeatEvent[], at: Date): number {
  return peakSeats(events, at, at);
}

/**
 * What the seats of a window need, instead of the whole history: the users who were members at
 * its start (each user's last change before it, additions before removals at one instant) and
 * the changes inside `[start, end)`. The repository computes the members in SQL.
 */
export interface SeatWindow {
  readonly membersAtStart: readonly string[];
  readonly events: readonly SeatEvent[];
}

/**
 * `peakSeats` from a `SeatWindow`: the members at `start`, then after each change inside
 * `[start, end)` in the same order, so the answer is the one of the fold over the whole history.
 * Changes outside the window are ignored.
 */
export function peakSeatsInWindow(window: SeatWindow, start: Date, end: Date): number {
  const members = new Set(window.membersAtStart);
  let peak = members.size;
  const inside = window.events.filter((e) => e.at >= start && e.at < end);
  for (const e of inside.sort(byTimeAddedFirst)) {
    if (e.kind === 'added') members.add(e.userId);
    else members.delete(e.userId);
    peak = Math.max(peak, members.size);
  }
  return peak;
}
