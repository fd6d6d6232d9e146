import type { MigrationInterface, QueryRunner } from 'typeorm';
import { installPersonalDataErasure, undoPersonalDataErasure } from '@tenantry/db';

/**
 * The audit log's one erasure path (docs/adr/0013): `audit_log_erase_personal_data()` redacts the
 * personal fields of `details` (invitee emails, API key names, operators' free-text reasons) in
 * a deleted tenant's rows; actor, action, target, request and time stay. The key list is frozen
 * here with the schema: a new personal field in `details` needs a new migration.
 */
export class AuditLogPersonalDataErasure1764300300000 implements MigrationInterface {
  name = 'AuditLogPersonalDataErasure1764300300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await installPersonalDataErasure(queryRunner, {
      table: 'audit_log',
      jsonColumns: ['details'],
      personalKeys: ['email', 'displayName', 'name', 'reason'],
      erasableTenant: `EXISTS (SELECT 1 FROM tenants
         WHERE id::text = current_setting('app.tenant_id', true) AND status = 'deleted')`,
    });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await undoPersonalDataErasure(queryRunner, 'audit_log');
  }
}
