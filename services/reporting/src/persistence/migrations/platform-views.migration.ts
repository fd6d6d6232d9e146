import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantWriteRowLevelSecurity, makeTableAppendOnly } from '@tenantry/db';

/**
 * The platform operator's cross-tenant figures. Tenant-bound writes (ADR 0008): every row is
 * written only in its own tenant's transaction, by the same handlers as the read models, but any
 * role may read them all; they hold ids, names, counts and states, no personal data.
 */
export const PLATFORM_TABLES = ['platform_tenants', 'platform_usage_daily'];

export class PlatformViews1797300000000 implements MigrationInterface {
  name = 'PlatformViews1797300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE platform_tenants (
        tenant_id text PRIMARY KEY,
        name text,
        plan text,
        status text,
        active_members integer NOT NULL DEFAULT 0,
        subscription_status text,
        plan_code text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE platform_usage_daily (
        tenant_id text NOT NULL,
        day timestamptz NOT NULL,
        calls bigint NOT NULL,
        server_errors bigint NOT NULL,
        PRIMARY KEY (tenant_id, day)
      )`);
    await queryRunner.query(`CREATE INDEX platform_usage_daily_day ON platform_usage_daily (day)`);
    for (const table of PLATFORM_TABLES) {
      await enableTenantWriteRowLevelSecurity(queryRunner, table);
    }
    // Who read the cross-tenant figures: append-only, no tenant (an operator's read spans them).
    await queryRunner.query(`
      CREATE TABLE operator_access_log (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        request_id text NOT NULL,
        action text NOT NULL,
        parameters jsonb NOT NULL
      )`);
    await makeTableAppendOnly(queryRunner, 'operator_access_log');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE operator_access_log`);
    for (const table of PLATFORM_TABLES) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
