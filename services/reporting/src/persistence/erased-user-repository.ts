import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';

/**
 * Users identity erased (`erased_users`, no tenant column: a user spans tenants, and the row is
 * an id only), and the tenants whose read models know them (`user_tenants`).
 */
export class ErasedUserRepository {
  /**
   * In the event's inbox transaction: from its commit on, a membership fact stores no personal
   * data of the user, and the erasure task clears what the tenants already hold.
   */
  async mark(tx: TenantTransaction, userId: string, at: Date): Promise<void> {
    await tx.manager.query(
      `INSERT INTO erased_users (user_id, erased_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [userId, at],
    );
  }

  /** Users marked erased whose tenants were not all cleared yet, oldest first. */
  async pending(dataSource: DataSource, limit: number): Promise<string[]> {
    const rows = (await dataSource.query(
      `SELECT user_id FROM erased_users WHERE completed_at IS NULL
        ORDER BY erased_at, user_id LIMIT $1`,
      [limit],
    )) as { user_id: string }[];
    return rows.map((r) => r.user_id);
  }

  async completed(dataSource: DataSource, userId: string, at: Date): Promise<void> {
    await dataSource.query(`UPDATE erased_users SET completed_at = $2 WHERE user_id = $1`, [
      userId,
      at,
    ]);
  }

  /** The tenants whose read models know the user (`user_tenants`, read across tenants). */
  async tenantsOf(dataSource: DataSource, userId: string): Promise<string[]> {
    const rows = (await dataSource.query(
      `SELECT tenant_id FROM user_tenants WHERE user_id = $1 ORDER BY tenant_id`,
      [userId],
    )) as { tenant_id: string }[];
    return rows.map((r) => r.tenant_id);
  }
}
