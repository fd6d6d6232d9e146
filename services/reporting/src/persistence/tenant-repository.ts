import type { TenantTransaction } from '@tenantry/db';
import { PLATFORM_TABLES } from './migrations/platform-views.migration';
import { REPORTING_TENANT_TABLES } from './migrations/reporting-schema.migration';
import { queryRows } from './sql-rows';

// One advisory lock per tenant: every read-model write holds it shared, the purge exclusively,
// so no write lands after a purge it overlapped (its tombstone check would have missed it).
const TENANT_LOCK_SQL = `hashtextextended('reporting.tenant:' || $1, 0)`;

/** The tenant's profile (name, plan, status), its tombstone, and the purge. */
export class TenantRepository {
  /** True unless the tenant was deleted; holds the tenant's write lock (shared) till commit. */
  async admit(tx: TenantTransaction): Promise<boolean> {
    return (await this.deletedAt(tx)) === null;
  }

  /**
   * When the tenant was deleted (its tombstone), or null; holds the tenant's write lock (shared)
   * till commit, like `admit`.
   */
  async deletedAt(tx: TenantTransaction): Promise<Date | null> {
    // Two statements: the check's snapshot must be taken after the lock is granted, so it sees
    // the tombstone of a purge it waited for.
    await tx.manager.query(`SELECT pg_advisory_xact_lock_shared(${TENANT_LOCK_SQL})`, [
      tx.tenantId,
    ]);
    const rows = await queryRows<{ deleted_at: Date }>(
      tx,
      `SELECT deleted_at FROM tenant_tombstones`,
    );
    return rows[0]?.deleted_at ?? null;
  }

  async created(
    tx: TenantTransaction,
    profile: { name: string; slug: string; plan: string; createdAt: Date },
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO tenant_profiles (tenant_id, name, slug, plan, created_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id) DO UPDATE
         SET name = EXCLUDED.name, slug = EXCLUDED.slug, plan = EXCLUDED.plan,
             created_at = EXCLUDED.created_at`,
      [tx.tenantId, profile.name, profile.slug, profile.plan, profile.createdAt],
    );
  }

  /** Suspended or active again: the newest change by (time, event id) wins, in any order. */
  async statusChanged(
    tx: TenantTransaction,
    change: { status: 'active' | 'suspended'; at: Date; eventId: string },
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO tenant_profiles (tenant_id, status, status_changed_at, status_event_id)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE
         SET status = EXCLUDED.status, status_changed_at = EXCLUDED.status_changed_at,
             status_event_id = EXCLUDED.status_event_id
         WHERE tenant_profiles.status_changed_at IS NULL
            OR (tenant_profiles.status_changed_at, tenant_profiles.status_event_id)
               < (EXCLUDED.status_changed_at, EXCLUDED.status_event_id)`,
      [tx.tenantId, change.status, change.at, change.eventId],
    );
  }

  async profile(tx: TenantTransaction): Promise<{
    name: string | null;
    plan: string | null;
    status: string;
    createdAt: Date | null;
  } | null> {
    const rows = await queryRows<{
      name: string | null;
      plan: string | null;
      status: string;
      created_at: Date | null;
    }>(tx, `SELECT name, plan, status, created_at FROM tenant_profiles`);
    const row = rows[0];
    return row
      ? { name: row.name, plan: row.plan, status: row.status, createdAt: row.created_at }
      : null;
  }

  /**
   * Deletes every read-model row and export of the tenant and leaves a tombstone, so late or replayed
   * events are dropped (`admit` is false from now on).
   */
  async purge(tx: TenantTransaction, deletedAt: Date): Promise<void> {
    await tx.manager.query(`SELECT pg_advisory_xact_lock(${TENANT_LOCK_SQL})`, [tx.tenantId]);
    for (const table of [
      ...REPORTING_TENANT_TABLES,
      ...PLATFORM_TABLES,
      'report_exports',
      'export_expiries',
      'user_tenants',
    ]) {
      if (table !== 'tenant_tombstones') await tx.manager.query(`DELETE FROM ${table}`);
    }
    await tx.manager.query(
      `INSERT INTO tenant_tombstones (tenant_id, deleted_at) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE
         SET deleted_at = LEAST(tenant_tombstones.deleted_at, EXCLUDED.deleted_at)`,
      [tx.tenantId, deletedAt],
    );
  }
}
