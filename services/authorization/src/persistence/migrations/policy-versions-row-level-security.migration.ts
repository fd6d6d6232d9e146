import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  disableTenantWriteRowLevelSecurity,
  enableTenantWriteRowLevelSecurity,
} from '@tenantry/db';

/**
 * policy_versions stays readable across tenants (every replica's poller scans it with no tenant
 * set), but a row can now be written only in its own tenant's transaction.
 */
export class PolicyVersionsRowLevelSecurity1764300300000 implements MigrationInterface {
  name = 'PolicyVersionsRowLevelSecurity1764300300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantWriteRowLevelSecurity(queryRunner, 'policy_versions');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantWriteRowLevelSecurity(queryRunner, 'policy_versions');
  }
}
