import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity } from '@tenantry/db';

/**
 * The table behind idempotent routes (`PostgresIdempotencyStore`). Add this class to the
 * migrations list of a service that declares `idempotency` on a route. Tenant data (responses
 * are tenant data), so under forced row-level security like every tenant table.
 */
export class IdempotencyKeys1796500000000 implements MigrationInterface {
  name = 'IdempotencyKeys1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        tenant_id text NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
        fingerprint text NOT NULL,
        state text NOT NULL CHECK (state IN ('running', 'completed')),
        claim_token uuid NOT NULL,
        locked_until timestamptz,
        response_status integer,
        response_headers jsonb,
        response_body bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, actor_type, actor_id, idempotency_key),
        CHECK (state = 'running' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
      )`);
    // Pruning on write looks for one tenant's expired rows.
    await queryRunner.query(
      `CREATE INDEX idempotency_keys_expiry ON idempotency_keys (tenant_id, expires_at)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, 'idempotency_keys');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, 'idempotency_keys');
    await queryRunner.query(`DROP TABLE idempotency_keys`);
  }
}
