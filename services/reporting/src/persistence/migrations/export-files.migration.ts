import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantWriteRowLevelSecurity } from '@tenantry/db';

/**
 * Export files move out of PostgreSQL into a directory (`REPORTING_EXPORT_DIR`), and expire:
 * `expired` once the sweeper deleted the file; progress counts rows written of the total while a
 * job runs. `export_expiries` is the sweeper's schedule: a tenant-bound write (ADR 0008), written
 * in the export's tenant transaction and read across tenants, ids and instants only.
 */
export class ExportFiles1797500000000 implements MigrationInterface {
  name = 'ExportFiles1797500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE report_exports DROP CONSTRAINT IF EXISTS report_exports_status_check`,
    );
    await queryRunner.query(`
      ALTER TABLE report_exports
        ADD CONSTRAINT report_exports_status_check
          CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
        ADD COLUMN rows_written integer NOT NULL DEFAULT 0,
        ADD COLUMN rows_total integer,
        ADD COLUMN expired_at timestamptz`);
    await queryRunner.query(`
      CREATE TABLE export_expiries (
        tenant_id text NOT NULL,
        export_id uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, export_id)
      )`);
    await queryRunner.query(`CREATE INDEX export_expiries_due ON export_expiries (expires_at)`);
    await enableTenantWriteRowLevelSecurity(queryRunner, 'export_expiries');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE export_expiries`);
    await queryRunner.query(`DELETE FROM report_exports WHERE status = 'expired'`);
    await queryRunner.query(`
      ALTER TABLE report_exports
        DROP COLUMN rows_written, DROP COLUMN rows_total, DROP COLUMN expired_at,
        DROP CONSTRAINT report_exports_status_check,
        ADD CONSTRAINT report_exports_status_check
          CHECK (status IN ('queued', 'running', 'done', 'failed'))`);
  }
}
