import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantWriteRowLevelSecurity } from '@tenantry/db';

/**
 * Erasure of a user (`identity.user.deleted`, docs/adr/0013), which spans tenants:
 *
 * - `user_tenants`: which tenants' read models know a user (ids only). A tenant-bound write
 *   (ADR 0008): written in the tenant's transaction with each membership fact, read across
 *   tenants, so an erasure visits those tenants only. Filled here from the facts already held.
 * - `erased_users`: users identity erased. No tenant column on purpose: a user spans tenants,
 *   and the row is an id only. Membership facts written after it (a late or replayed event)
 *   store no email or display name, so the erasure holds whatever order the events come in;
 *   `completed_at` is set once the erasure task cleared every tenant that knew the user.
 */
export class ErasedUsers1797400000000 implements MigrationInterface {
  name = 'ErasedUsers1797400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_tenants (
        user_id text NOT NULL,
        tenant_id text NOT NULL,
        PRIMARY KEY (user_id, tenant_id)
      )`);
    await enableTenantWriteRowLevelSecurity(queryRunner, 'user_tenants');
    // Forced RLS holds the owner too: each tenant's facts are read in that tenant's setting.
    await queryRunner.query(`
      DO $$
      DECLARE t text;
      BEGIN
        FOR t IN SELECT tenant_id FROM platform_tenants LOOP
          PERFORM set_config('app.tenant_id', t, true);
          INSERT INTO user_tenants (user_id, tenant_id)
            SELECT DISTINCT user_id, tenant_id FROM membership_events
            ON CONFLICT DO NOTHING;
        END LOOP;
        PERFORM set_config('app.tenant_id', '', true);
      END $$`);
    await queryRunner.query(`
      CREATE TABLE erased_users (
        user_id text PRIMARY KEY,
        erased_at timestamptz NOT NULL,
        -- Set once every tenant in user_tenants was erased (the erasure task's work list).
        completed_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX erased_users_pending ON erased_users (erased_at) WHERE completed_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE erased_users`);
    await queryRunner.query(`DROP TABLE user_tenants`);
  }
}
