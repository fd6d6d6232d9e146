import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';

const TENANT_TABLES = ['tenants', 'roles', 'role_permissions', 'role_assignments', 'subjects'];

/** Roles, their permissions and assignments per tenant (Casbin's policy, normalised). */
export class AuthorizationSchema1764300000000 implements MigrationInterface {
  name = 'AuthorizationSchema1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per tenant authorization has heard of; a deleted tenant stays as a tombstone so a
    // late membership event cannot bring its roles back.
    await queryRunner.query(`
      CREATE TABLE tenants (
        tenant_id text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('active', 'deleted')),
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE roles (
        tenant_id text NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        built_in boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, name)
      )`);
    await queryRunner.query(`
      CREATE TABLE role_permissions (
        tenant_id text NOT NULL,
        role text NOT NULL,
        permission text NOT NULL,
        PRIMARY KEY (tenant_id, role, permission),
        FOREIGN KEY (tenant_id, role) REFERENCES roles (tenant_id, name) ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      CREATE TABLE role_assignments (
        tenant_id text NOT NULL,
        subject_type text NOT NULL CHECK (subject_type IN ('user', 'api_key')),
        subject_id text NOT NULL,
        role text NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, subject_type, subject_id, role),
        FOREIGN KEY (tenant_id, role) REFERENCES roles (tenant_id, name) ON DELETE RESTRICT
      )`);
    await queryRunner.query(
      `CREATE INDEX role_assignments_by_role ON role_assignments (tenant_id, role)`,
    );
    // Membership and API-key lifecycle as identity reported it, with the time of the last change:
    // an add older than a removal (events out of order) is ignored, so they converge.
    await queryRunner.query(`
      CREATE TABLE subjects (
        tenant_id text NOT NULL,
        subject_type text NOT NULL CHECK (subject_type IN ('user', 'api_key')),
        subject_id text NOT NULL,
        state text NOT NULL CHECK (state IN ('active', 'removed')),
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, subject_type, subject_id)
      )`);
    for (const table of TENANT_TABLES) await enableTenantRowLevelSecurity(queryRunner, table);

    // Not a tenant table on purpose: every replica polls it across tenants to find policies that
    // changed (the backstop for a missed policy-changed event). It holds only ids and counters.
    // Its row is also the per-tenant lock every policy change takes first.
    await queryRunner.query(`
      CREATE TABLE policy_versions (
        tenant_id text PRIMARY KEY,
        version bigint NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(`CREATE INDEX policy_versions_changed ON policy_versions (changed_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE policy_versions`);
    for (const table of [...TENANT_TABLES].reverse()) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
