import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity, installPersonalDataErasure } from '@tenantry/db';

const OLD_STATUSES = `'active', 'suspended', 'deleted'`;
const STATUSES = `'active', 'suspended', 'deleting', 'purging', 'deleted'`;

/**
 * The offboarding saga (docs/adr/0016): a deletion waits out its grace period (`deleting`), then
 * identity erases its data and asks every service to purge (`purging`), and the tenant is
 * `deleted` once each confirmed. The audit log's eraser accepts a purging tenant from now on.
 */
export class TenantOffboarding1796800000000 implements MigrationInterface {
  name = 'TenantOffboarding1796800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_status_check`);
    await queryRunner.query(
      `ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN (${STATUSES}))`,
    );
    await queryRunner.query(`
      ALTER TABLE tenants
        ADD COLUMN deletion_requested_at timestamptz,
        ADD COLUMN purge_after timestamptz,
        ADD COLUMN purge_started_at timestamptz,
        ADD COLUMN deleted_at timestamptz,
        ADD COLUMN status_before_deletion text
          CHECK (status_before_deletion IN ('active', 'suspended'))`);
    // What the scheduler looks for on every tick.
    await queryRunner.query(
      `CREATE INDEX tenants_purge_due ON tenants (purge_after) WHERE status = 'deleting'`,
    );
    // One row per service that must confirm its purge; kept after completion as the saga's
    // record (ids, service names and times only, no personal data).
    await queryRunner.query(`
      CREATE TABLE tenant_purge_confirmations (
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        service text NOT NULL,
        requested_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        confirmation_event_id text,
        PRIMARY KEY (tenant_id, service)
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'tenant_purge_confirmations');
    await installPersonalDataErasure(queryRunner, {
      table: 'audit_log',
      jsonColumns: ['details'],
      personalKeys: ['email', 'displayName', 'name', 'reason'],
      erasableTenant: `EXISTS (SELECT 1 FROM tenants
         WHERE id::text = current_setting('app.tenant_id', true)
           AND status IN ('purging', 'deleted'))`,
    });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await installPersonalDataErasure(queryRunner, {
      table: 'audit_log',
      jsonColumns: ['details'],
      personalKeys: ['email', 'displayName', 'name', 'reason'],
      erasableTenant: `EXISTS (SELECT 1 FROM tenants
         WHERE id::text = current_setting('app.tenant_id', true) AND status = 'deleted')`,
    });
    await queryRunner.query(`DROP TABLE tenant_purge_confirmations`);
    await queryRunner.query(`DROP INDEX tenants_purge_due`);
    await queryRunner.query(`UPDATE tenants SET status = 'deleted' WHERE status = 'purging'`);
    await queryRunner.query(
      `UPDATE tenants SET status = status_before_deletion WHERE status = 'deleting'`,
    );
    await queryRunner.query(`
      ALTER TABLE tenants
        DROP COLUMN deletion_requested_at, DROP COLUMN purge_after, DROP COLUMN purge_started_at,
        DROP COLUMN deleted_at, DROP COLUMN status_before_deletion`);
    await queryRunner.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_status_check`);
    await queryRunner.query(
      `ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN (${OLD_STATUSES}))`,
    );
  }
}
