import type { TenantTransaction } from '@tenantry/db';
import type { SeatEvent } from '../domain/seat-count';
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

  async history(tx: TenantTransaction, before: Date): Promise<SeatEvent[]> {
    const rows = await queryRows<{ user_id: string; kind: 'added' | 'removed'; occurred_at: Date }>(
      tx,
      `SELECT user_id, kind, occurred_at FROM seat_events WHERE occurred_at < $1`,
      [before],
    );
    return rows.map((r) => ({ userId: r.user_id, kind: r.kind, at: r.occurred_at }));
  }
}
