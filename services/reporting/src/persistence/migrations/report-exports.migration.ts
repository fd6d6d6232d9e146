import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';

/**
 * Report exports: the job's state and, once done, the file itself (kept in PostgreSQL for now,
 * capped by REPORTING_EXPORT_MAX_ROWS; object storage is for later, docs/adr/0015).
 */
export class ReportExports1797200000000 implements MigrationInterface {
  name = 'ReportExports1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE report_exports (
        tenant_id text NOT NULL,
        id uuid NOT NULL,
        report text NOT NULL CHECK (report IN ('usage', 'members', 'activity', 'billing')),
        format text NOT NULL CHECK (format IN ('csv', 'json')),
        parameters jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        rows integer,
        size_bytes integer,
        content bytea,
        content_type text,
        error text,
        requested_by_type text NOT NULL,
        requested_by_id text NOT NULL,
        requested_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        expires_at timestamptz,
        PRIMARY KEY (tenant_id, id)
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'report_exports');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE report_exports`);
  }
}
