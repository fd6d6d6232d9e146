import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';
import { TENANT_DERIVE_LOCK_SQL } from './tenant-locks';

export interface MembershipFact {
  readonly eventId: string;
  readonly userId: string;
  readonly kind: 'added' | 'removed';
  readonly role: string | null;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly at: Date;
  readonly actorType: string;
  readonly actorId: string;
}

export interface RoleFact {
  readonly eventId: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly role: string;
  readonly kind: 'assigned' | 'revoked';
  readonly at: Date;
  readonly actorType: string;
  readonly actorId: string;
}

export interface MemberRow {
  readonly userId: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly joinedRole: string | null;
  readonly roles: string[];
  readonly active: boolean;
  readonly joinedAt: Date | null;
  readonly removedAt: Date | null;
}

export interface MembershipChange {
  readonly eventId: string;
  readonly at: Date;
  readonly change: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly role: string | null;
  readonly actorType: string;
  readonly actorId: string;
}

/**
 * Members and their roles over time. Facts (one row per event id) are kept; the current rows are
 * recomputed from them after each new fact, so they are a function of the set of events applied,
 * not of the order they came in: the newest fact (event time, then event id) decides.
 */
export class MemberRepository {
  async recordMembership(tx: TenantTransaction, fact: MembershipFact): Promise<void> {
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    // After the lock, in its own statement: an erasure either saw this fact or is seen here.
    const erased = await queryRows<{ one: number }>(
      tx,
      `SELECT 1 AS one FROM erased_users WHERE user_id = $1`,
      [fact.userId],
    );
    const personal = erased.length > 0 ? { email: null, displayName: null } : fact;
    // Where an erasure of this user will look (a tenant-bound write, read across tenants).
    await tx.manager.query(
      `INSERT INTO user_tenants (user_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [fact.userId, tx.tenantId],
    );
    await tx.manager.query(
      `INSERT INTO membership_events (tenant_id, event_id, user_id, kind, role, email, display_name,
                                      occurred_at, actor_type, actor_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [
        tx.tenantId,
        fact.eventId,
        fact.userId,
        fact.kind,
        fact.role,
        personal.email,
        personal.displayName,
        fact.at,
        fact.actorType,
        fact.actorId,
      ],
    );
    await tx.manager.query(
      `WITH latest AS (
         SELECT kind, occurred_at FROM membership_events
          WHERE tenant_id = $1 AND user_id = $2
          ORDER BY occurred_at DESC, event_id DESC LIMIT 1
       ), joined AS (
         SELECT role, email, display_name, occurred_at FROM membership_events
          WHERE tenant_id = $1 AND user_id = $2 AND kind = 'added'
          ORDER BY occurred_at DESC, event_id DESC LIMIT 1
       )
       INSERT INTO members (tenant_id, user_id, email, display_name, joined_role, active,
                            joined_at, removed_at, changed_at)
       SELECT $1, $2, j.email, j.display_name, j.role, l.kind = 'added', j.occurred_at,
              CASE WHEN l.kind = 'removed' THEN l.occurred_at END, l.occurred_at
         FROM latest l LEFT JOIN joined j ON true
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET
         email = EXCLUDED.email, display_name = EXCLUDED.display_name,
         joined_role = EXCLUDED.joined_role, active = EXCLUDED.active,
         joined_at = EXCLUDED.joined_at, removed_at = EXCLUDED.removed_at,
         changed_at = EXCLUDED.changed_at`,
      [tx.tenantId, fact.userId],
    );
  }

  /**
   * Erases one user's personal data (email, display name) from the tenant's membership facts and
   * members; ids, roles, times and counts stay. Returns how many rows changed (0 the second time).
   */
  async erasePersonalData(tx: TenantTransaction, userId: string): Promise<number> {
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    let changed = 0;
    for (const table of ['membership_events', 'members']) {
      const [, count] = (await tx.manager.query(
        `UPDATE ${table} SET email = NULL, display_name = NULL
          WHERE user_id = $1 AND (email IS NOT NULL OR display_name IS NOT NULL)`,
        [userId],
      )) as [unknown, number];
      changed += count;
    }
    return changed;
  }

  async recordRole(tx: TenantTransaction, fact: RoleFact): Promise<void> {
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    await tx.manager.query(
      `INSERT INTO role_events (tenant_id, event_id, subject_type, subject_id, role, kind,
                                occurred_at, actor_type, actor_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      [
        tx.tenantId,
        fact.eventId,
        fact.subjectType,
        fact.subjectId,
        fact.role,
        fact.kind,
        fact.at,
        fact.actorType,
        fact.actorId,
      ],
    );
    await tx.manager.query(
      `INSERT INTO role_assignments (tenant_id, subject_type, subject_id, role, assigned, changed_at)
       SELECT $1, $2, $3, $4, kind = 'assigned', occurred_at FROM role_events
        WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND role = $4
        ORDER BY occurred_at DESC, event_id DESC LIMIT 1
       ON CONFLICT (tenant_id, subject_type, subject_id, role) DO UPDATE
         SET assigned = EXCLUDED.assigned, changed_at = EXCLUDED.changed_at`,
      [tx.tenantId, fact.subjectType, fact.subjectId, fact.role],
    );
  }

  /** A page of members by user id, with the roles each holds now. */
  async page(
    tx: TenantTransaction,
    options: { status: 'active' | 'removed' | 'all'; limit: number; afterUserId?: string },
  ): Promise<MemberRow[]> {
    const rows = await queryRows<{
      user_id: string;
      email: string | null;
      display_name: string | null;
      joined_role: string | null;
      roles: string[] | null;
      active: boolean;
      joined_at: Date | null;
      removed_at: Date | null;
    }>(
      tx,
      `SELECT m.user_id, m.email, m.display_name, m.joined_role, m.active, m.joined_at,
              m.removed_at,
              ARRAY(SELECT r.role FROM role_assignments r
                     WHERE r.tenant_id = m.tenant_id AND r.subject_type = 'user'
                       AND r.subject_id = m.user_id AND r.assigned
                     ORDER BY r.role) AS roles
         FROM members m
        WHERE ($1 = 'all' OR m.active = ($1 = 'active'))
          AND ($2::text IS NULL OR m.user_id > $2)
        ORDER BY m.user_id
        LIMIT $3`,
      [options.status, options.afterUserId ?? null, options.limit],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      email: r.email,
      displayName: r.display_name,
      joinedRole: r.joined_role,
      roles: r.roles ?? [],
      active: r.active,
      joinedAt: r.joined_at,
      removedAt: r.removed_at,
    }));
  }

  async totals(tx: TenantTransaction): Promise<{ active: number; removed: number }> {
    const [row] = await queryRows<{ active: number; removed: number }>(
      tx,
      `SELECT count(*) FILTER (WHERE active)::int AS active,
              count(*) FILTER (WHERE NOT active)::int AS removed
         FROM members`,
    );
    return { active: row?.active ?? 0, removed: row?.removed ?? 0 };
  }

  /** Membership and role changes, newest first, after the (time, event id) of the last page. */
  async history(
    tx: TenantTransaction,
    options: { limit: number; before?: { at: Date; eventId: string } },
  ): Promise<MembershipChange[]> {
    const rows = await queryRows<{
      event_id: string;
      occurred_at: Date;
      change: string;
      subject_type: string;
      subject_id: string;
      role: string | null;
      actor_type: string;
      actor_id: string;
    }>(
      tx,
      `SELECT * FROM (
         SELECT event_id, occurred_at, 'membership.' || kind AS change, 'user' AS subject_type,
                user_id AS subject_id, role, actor_type, actor_id
           FROM membership_events
          WHERE ($1::timestamptz IS NULL OR (occurred_at, event_id) < ($1, $2))
         UNION ALL
         SELECT event_id, occurred_at, 'role.' || kind, subject_type, subject_id, role,
                actor_type, actor_id
           FROM role_events
          WHERE ($1::timestamptz IS NULL OR (occurred_at, event_id) < ($1, $2))
       ) changes
       ORDER BY occurred_at DESC, event_id DESC
       LIMIT $3`,
      [options.before?.at ?? null, options.before?.eventId ?? null, options.limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      at: r.occurred_at,
      change: r.change,
      subjectType: r.subject_type,
      subjectId: r.subject_id,
      role: r.role,
      actorType: r.actor_type,
      actorId: r.actor_id,
    }));
  }
}
