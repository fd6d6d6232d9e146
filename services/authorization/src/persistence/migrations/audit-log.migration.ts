import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';

/**
 * The append-only audit log. `migrateServiceDatabase` grants the application role UPDATE and
 * DELETE on every table after migrations, so a privilege REVOKE here would be undone: the triggers
 * are what refuses changes, for every role but a superuser (only the table owner could disable
 * them, and the service never runs as the owner).
 * Superseded (applied migrations stay as they ran): AuditLogSharedGuard1764300200000 swaps these
 * triggers for libs/db's shared guard, and the grants step now does revoke those rights.
 */
export class AuditLog1764300100000 implements MigrationInterface {
  name = 'AuditLog1764300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        event_id text NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        request_id text NOT NULL,
        source text NOT NULL,
        before jsonb,
        after jsonb
      )`);
    await queryRunner.query(`CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id DESC)`);
    await queryRunner.query(
      `CREATE INDEX audit_log_by_action ON audit_log (tenant_id, action, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX audit_log_by_target ON audit_log (tenant_id, target, id DESC)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, 'audit_log');
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
    // Belt and braces for whatever grants PUBLIC might get later.
    await queryRunner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
    await queryRunner.query(`DROP FUNCTION audit_log_refuse_change()`);
  }
}
