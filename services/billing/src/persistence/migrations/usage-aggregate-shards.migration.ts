import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's period total is spread over shard rows (ADR 0017): each usage transaction adds to the
 * row of the Kafka partition its events came from, so one tenant's partitions, consumed at once,
 * no longer queue behind each other on a single aggregate row. A total is the sum of its shards.
 * Row-level security (enabled and forced in BillingSchema1797000000000) is untouched.
 */
export class UsageAggregateShards1797100000000 implements MigrationInterface {
  name = 'UsageAggregateShards1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Rows written before shards existed become shard 0; writers always name their shard.
    await queryRunner.query(
      `ALTER TABLE usage_aggregates ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0)`,
    );
    await queryRunner.query(`ALTER TABLE usage_aggregates ALTER COLUMN shard DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE usage_aggregates DROP CONSTRAINT usage_aggregates_pkey`);
    await queryRunner.query(
      `ALTER TABLE usage_aggregates ADD PRIMARY KEY (tenant_id, period_start, meter, shard)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Folding every tenant's shards needs all tenants' rows: forced RLS would show the owner none.
    await queryRunner.query(`ALTER TABLE usage_aggregates NO FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(`
      WITH folded AS (
        DELETE FROM usage_aggregates WHERE shard <> 0
        RETURNING tenant_id, period_start, meter, quantity
      ), summed AS (
        SELECT tenant_id, period_start, meter, sum(quantity)::bigint AS quantity
        FROM folded GROUP BY tenant_id, period_start, meter
      )
      INSERT INTO usage_aggregates (tenant_id, period_start, meter, shard, quantity)
      SELECT tenant_id, period_start, meter, 0, quantity FROM summed
      ON CONFLICT (tenant_id, period_start, meter, shard)
        DO UPDATE SET quantity = usage_aggregates.quantity + EXCLUDED.quantity`);
    await queryRunner.query(`ALTER TABLE usage_aggregates FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(`ALTER TABLE usage_aggregates DROP CONSTRAINT usage_aggregates_pkey`);
    await queryRunner.query(`ALTER TABLE usage_aggregates DROP COLUMN shard`);
    await queryRunner.query(
      `ALTER TABLE usage_aggregates ADD PRIMARY KEY (tenant_id, period_start, meter)`,
    );
  }
}
