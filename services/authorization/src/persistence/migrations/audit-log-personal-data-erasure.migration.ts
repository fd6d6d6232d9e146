import type { MigrationInterface, QueryRunner } from 'typeorm';
import { installPersonalDataErasure, undoPersonalDataErasure } from '@tenantry/db';

/**
 * The audit log's one erasure path (docs/adr/0013). Rows derived from other services' events
 * carry those payloads in `before`/`after`, identity's with emails, display names, tenant and API
 * key names and suspension reasons: `audit_log_erase_personal_data()` redacts those fields once
 * the tenant is deleted here, and a row recorded later (an event arriving after the deletion) is
 * redacted as it is inserted. Authorization's own rows hold role names, permissions and ids, no
 * personal data, so they stay whole. The key list is frozen here with the schema.
 */
export class AuditLogPersonalDataErasure1764300400000 implements MigrationInterface {
  name = 'AuditLogPersonalDataErasure1764300400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await installPersonalDataErasure(queryRunner, {
      table: 'audit_log',
      jsonColumns: ['before', 'after'],
      personalKeys: ['email', 'ownerEmail', 'displayName', 'name', 'slug', 'reason'],
      erasableTenant: `EXISTS (SELECT 1 FROM tenants
         WHERE tenant_id = current_setting('app.tenant_id', true) AND state = 'deleted')`,
      rowCondition: `r.source <> '/services/authorization'`,
    });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await undoPersonalDataErasure(queryRunner, 'audit_log');
  }
}
