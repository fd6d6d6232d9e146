import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';

export interface ActivityEntry {
  readonly eventId: string;
  readonly at: Date;
  readonly action: string;
  readonly actorType: string;
  readonly actorId: string;
  readonly subject: string;
  readonly summary: string;
}

/** Recent privileged acts of the tenant, one row per event id. */
export class ActivityRepository {
  async record(tx: TenantTransaction, entry: ActivityEntry): Promise<void> {
    await tx.manager.query(
      `INSERT INTO activity (tenant_id, event_id, occurred_at, action, actor_type, actor_id,
                             subject, summary)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [
        tx.tenantId,
        entry.eventId,
        entry.at,
        entry.action,
        entry.actorType,
        entry.actorId,
        entry.subject,
        entry.summary,
      ],
    );
  }

  async count(tx: TenantTransaction): Promise<number> {
    const [row] = await queryRows<{ n: number }>(tx, `SELECT count(*)::int AS n FROM activity`);
    return row?.n ?? 0;
  }

  /** Newest first, after the (time, event id) the previous page ended at. */
  async page(
    tx: TenantTransaction,
    options: { limit: number; before?: { at: Date; eventId: string }; actionPrefix?: string },
  ): Promise<ActivityEntry[]> {
    const rows = await queryRows<{
      event_id: string;
      occurred_at: Date;
      action: string;
      actor_type: string;
      actor_id: string;
      subject: string;
      summary: string;
    }>(
      tx,
      `SELECT event_id, occurred_at, action, actor_type, actor_id, subject, summary
         FROM activity
        WHERE ($1::timestamptz IS NULL OR (occurred_at, event_id) < ($1, $2))
          AND ($3::text IS NULL OR starts_with(action, $3))
        ORDER BY occurred_at DESC, event_id DESC
        LIMIT $4`,
      [
        options.before?.at ?? null,
        options.before?.eventId ?? null,
        options.actionPrefix ?? null,
        options.limit,
      ],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      at: r.occurred_at,
      action: r.action,
      actorType: r.actor_type,
      actorId: r.actor_id,
      subject: r.subject,
      summary: r.summary,
    }));
  }
}
