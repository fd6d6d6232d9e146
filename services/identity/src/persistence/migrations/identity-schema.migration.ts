import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';

const TENANT_TABLES = ['memberships', 'invitations', 'api_keys', 'refresh_tokens', 'audit_log'];

/** Identity's tables: global registries first, then tenant tables under row-level security. */
export class IdentitySchema1764300000000 implements MigrationInterface {
  name = 'IdentitySchema1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Global: the tenant registry itself. Login, the gateway's status check and offboarding must
    // find a tenant before any tenant is set, and a row here holds no tenant data but its name.
    await queryRunner.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL UNIQUE,
        plan text NOT NULL DEFAULT 'free',
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        status_changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Global: one person is one user across every tenant they belong to (one password).
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Global lookup, non-secret: which tenants a user belongs to, so login can pick the tenant
    // before it can open a tenant transaction. Mirrors memberships; written in the same transaction.
    await queryRunner.query(`
      CREATE TABLE user_tenants (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, tenant_id)
      )`);
    await queryRunner.query(`CREATE INDEX user_tenants_tenant ON user_tenants (tenant_id)`);
    // Global lookup, non-secret: API key prefix -> tenant, so a presented key finds its tenant.
    await queryRunner.query(`
      CREATE TABLE api_key_prefixes (
        prefix text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        api_key_id uuid NOT NULL UNIQUE
      )`);
    // Global: the platform's token signing keys (private halves encrypted), not tenant data.
    await queryRunner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        algorithm text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        activates_at timestamptz NOT NULL,
        retired_at timestamptz
      )`);
    // Global: platform operators are the SaaS company's staff, members of no tenant.
    await queryRunner.query(`
      CREATE TABLE operators (
        id uuid PRIMARY KEY,
        email text NOT NULL UNIQUE,
        display_name text NOT NULL DEFAULT '',
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('support', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      )`);

    await queryRunner.query(`
      CREATE TABLE memberships (
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL,
        invitation_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, user_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        email text NOT NULL,
        role text NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        invited_by_type text NOT NULL,
        invited_by_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        accepted_by_user_id uuid,
        revoked_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX invitations_tenant ON invitations (tenant_id, created_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL UNIQUE,
        secret_hash bytea NOT NULL,
        role text NOT NULL,
        created_by_type text NOT NULL,
        created_by_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        replaced_by uuid
      )`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`);
    await queryRunner.query(
      `CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text NOT NULL,
        request_id text NOT NULL,
        correlation_id text,
        details jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX audit_log_tenant ON audit_log (tenant_id, occurred_at)`);
    for (const table of TENANT_TABLES) await enableTenantRowLevelSecurity(queryRunner, table);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      ...TENANT_TABLES,
      'operators',
      'signing_keys',
      'api_key_prefixes',
      'user_tenants',
      'users',
      'tenants',
    ]) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
