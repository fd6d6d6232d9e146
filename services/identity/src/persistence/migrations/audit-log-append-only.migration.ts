import type { MigrationInterface, QueryRunner } from 'typeorm';
import { makeTableAppendOnly, undoTableAppendOnly } from '@tenantry/db';

/**
 * The audit log becomes append-only: its triggers refuse UPDATE, DELETE and TRUNCATE, and
 * `migrateServiceDatabase` takes those rights from the application role. Erasure at tenant
 * deletion is left to the owner role through the seam in libs/db (docs/adr/0008).
 */
export class AuditLogAppendOnly1764300100000 implements MigrationInterface {
  name = 'AuditLogAppendOnly1764300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await makeTableAppendOnly(queryRunner, 'audit_log');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await undoTableAppendOnly(queryRunner, 'audit_log');
  }
}
