import type { MigrationInterface, QueryRunner } from 'typeorm';
import { makeTableAppendOnly, undoTableAppendOnly } from '@tenantry/db';

/**
 * Swaps the audit log's hand-written append-only triggers (AuditLog1764300100000) for libs/db's
 * shared guard, in one transaction so the table is never unguarded. Same trigger names and the
 * same refusals; in addition `migrateServiceDatabase` now revokes UPDATE/DELETE/TRUNCATE from the
 * application role, and the owner role gets the erasure seam (docs/adr/0008).
 */
export class AuditLogSharedGuard1764300200000 implements MigrationInterface {
  name = 'AuditLogSharedGuard1764300200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER audit_log_append_only ON audit_log`);
    await queryRunner.query(`DROP TRIGGER audit_log_no_truncate ON audit_log`);
    await queryRunner.query(`DROP FUNCTION audit_log_refuse_change()`);
    await makeTableAppendOnly(queryRunner, 'audit_log');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await undoTableAppendOnly(queryRunner, 'audit_log');
    await queryRunner.query(`
      CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`);
  }
}
