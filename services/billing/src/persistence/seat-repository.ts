import type { TenantTransaction } from '@tenantry/db';
import type { SeatEvent, SeatWindow } from '../domain/seat-count';
import { queryRows } from './sql-rows';

/** Membership history as identity reported it; seats are derived per period. */
export class SeatRepository {
  async record(tx: TenantTransaction, eventId: string, event: SeatEvent): Promise<void> {
    await tx.manager.query(
      `INSERT INTO seat_events (tenant_id, event_id, user_id, kind, occurred_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [tx.tenantId, eventId, event.userId, event.kind, event.at],
    );
  }

  /**
   * The members at `start` and the changes in `[start, end)`, for `peakSeatsInWindow`: what is
   * loaded grows with the members and the window, not with the tenant's whole history. A member
   * is a user whose last change before `start` is an addition; at one instant a removal counts as
   * the later change, as in `peakSeats`'s order. A window that ends before it starts gives the
   * members at its end, as the fold over the history before `end` does. One statement, so both
   * parts come from one snapshot.
   */
  async window(tx: TenantTransaction, start: Date, end: Date): Promise<SeatWindow> {
    const membersAt = end < start ? end : start;
    const rows = await queryRows<{
      user_id: string;
      kind: 'added' | 'removed';
      occurred_at: Date;
      member: boolean;
    }>(
      tx,
      `SELECT user_id, kind, occurred_at, true AS member FROM (
         SELECT DISTINCT ON (user_id) user_id, kind, occurred_at FROM seat_events
         WHERE occurred_at < $1
         ORDER BY user_id, occurred_at DESC, (kind = 'removed') DESC
       ) last_change WHERE kind = 'added'
       UNION ALL
       SELECT user_id, kind, occurred_at, false AS member FROM seat_events
       WHERE occurred_at >= $2 AND occurred_at < $3`,
      [membersAt, start, end],
    );
    const membersAtStart: string[] = [];
    const events: SeatEvent[] = [];
    for (const r of rows) {
      if (r.member) membersAtStart.push(r.user_id);
      else events.push({ userId: r.user_id, kind: r.kind, at: r.occurred_at });
    }
    return { membersAtStart, events };
  }

  /** Every change before `before`: the whole history (tests compare `window` against it). */
  async history(tx: TenantTransaction, before: Date): Promise<SeatEvent[]> {
    const rows = await queryRows<{ user_id: string; kind: 'added' | 'removed'; occurred_at: Date }>(
      tx,
      `SELECT user_id, kind, occurred_at FROM seat_events WHERE occurred_at < $1`,
      [before],
    );
    return rows.map((r) => ({ userId: r.user_id, kind: r.kind, at: r.occurred_at }));
  }
}
