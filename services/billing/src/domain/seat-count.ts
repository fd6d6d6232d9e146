/** One membership change as identity reported it. */
export interface SeatEvent {
  readonly userId: string;
  readonly kind: 'added' | 'removed';
  readonly at: Date;
}

/**
 * Seats of a period are the most members the tenant had at any one time in it: members at the
 * period start, then after each change inside the period. A user counts once however often they
 * are added. Events are ordered by their own time, not by arrival, so late or reordered events
 * give the same answer.
 */
export function peakSeats(events: readonly SeatEvent[], start: Date, end: Date): number {
  const sorted = [...events].sort(
    (a, b) =>
      a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === 'added' ? -1 : 1),
  );
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
