import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';

/** The test service's producer side: orders, one tenant table. */
export class CreateOrders1764230500000 implements MigrationInterface {
  name = 'CreateOrders1764230500000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE orders (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        total_cents bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'orders');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE orders`);
  }
}

/** The test service's consumer side: a per-tenant read model of placed orders. */
export class CreateOrderLedger1764230600000 implements MigrationInterface {
  name = 'CreateOrderLedger1764230600000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE order_ledger (
        tenant_id text NOT NULL,
        order_id text NOT NULL,
        total_cents bigint NOT NULL,
        actor_id text NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now(),
        -- No uniqueness on order_id on purpose: a duplicate delivery would show as a second row.
        seq bigserial PRIMARY KEY
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'order_ledger');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE order_ledger`);
  }
}
