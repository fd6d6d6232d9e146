import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  disableTenantWriteRowLevelSecurity,
  enableTenantWriteRowLevelSecurity,
} from '@tenantry/db';

// Read before any tenant is known (login; a presented API key), so reads stay global.
const LOOKUP_TABLES = ['user_tenants', 'api_key_prefixes'];

/** The global lookups that name a tenant: rows may be written only in their own tenant. */
export class LookupTablesRowLevelSecurity1764300200000 implements MigrationInterface {
  name = 'LookupTablesRowLevelSecurity1764300200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of LOOKUP_TABLES) await enableTenantWriteRowLevelSecurity(queryRunner, table);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of LOOKUP_TABLES) await disableTenantWriteRowLevelSecurity(queryRunner, table);
  }
}
