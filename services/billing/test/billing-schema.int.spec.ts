import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  migrateServiceDatabase,
  openServiceDataSource,
  tenantTablesWithoutRowLevelSecurityAt,
  withTenant,
} from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import { BILLING_ENTITIES } from '../src/persistence/entities/billing-entities';
import { BILLING_MIGRATIONS } from '../src/persistence/migrations/billing-migrations';
import { UsageAggregateShards1797100000000 } from '../src/persistence/migrations/usage-aggregate-shards.migration';

/** Kept without RLS on purpose (docs/adr/0008); billing_schedule has tenant-bound writes. */
const DOCUMENTED_WITHOUT_RLS = ['event_inbox', 'event_outbox'];

describe('billing database schema', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(testStackEnv().databaseAdminUrl, 'billing_schema');
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: BILLING_ENTITIES,
      migrations: BILLING_MIGRATIONS,
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('puts every tenant table under forced RLS', async () => {
    expect(await tenantTablesWithoutRowLevelSecurityAt(db.ownerUrl)).toEqual(
      DOCUMENTED_WITHOUT_RLS,
    );
  });

  it('seeds a free plan and two paid plans', async () => {
    const rows = (await dataSource.query(
      `SELECT code, seat_price_minor::text AS price FROM plans ORDER BY seat_price_minor`,
    )) as { code: string; price: string }[];
    expect(rows.map((r) => r.code)).toEqual(['free', 'team', 'business']);
    expect(rows[0]?.price).toBe('0');
  });

  it('another tenant sees none of a tenant’s ledger', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await withTenant(dataSource, a, (tx) =>
      tx.manager.query(
        `INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
         VALUES ($1, 'e1', 'api_calls', 1, now(), now())`,
        [a],
      ),
    );
    const seen = await withTenant(dataSource, b, (tx) =>
      tx.manager.query(`SELECT * FROM usage_ledger WHERE tenant_id = $1`, [a]),
    );
    expect(seen).toEqual([]);
    await expect(
      withTenant(dataSource, b, (tx) =>
        tx.manager.query(
          `INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
           VALUES ($1, 'e2', 'api_calls', 1, now(), now())`,
          [a],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('an issued invoice and its lines cannot change', async () => {
    const tenant = randomUUID();
    const id = randomUUID();
    await withTenant(dataSource, tenant, async (tx) => {
      await tx.manager.query(
        `INSERT INTO invoices (id, tenant_id, status, idempotency_key, currency, plan_code,
           plan_version, period_start, period_end, created_at)
         VALUES ($1, $2, 'draft', 'k', 'USD', 'team', 1, now(), now(), now())`,
        [id, tenant],
      );
      await tx.manager.query(
        `INSERT INTO invoice_lines (invoice_id, position, tenant_id, kind, description, quantity,
           unit_amount_minor, amount_minor) VALUES ($1, 1, $2, 'seats', 's', 1, 100, 100)`,
        [id, tenant],
      );
      await tx.manager.query(
        `UPDATE invoices SET status = 'issued', sequence = 1, number = 'INV-000001',
           total_minor = 100, subtotal_minor = 100, issued_at = now(), due_at = now() WHERE id = $1`,
        [id],
      );
    });
    await expect(
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`UPDATE invoices SET total_minor = 1 WHERE id = $1`, [id]),
      ),
    ).rejects.toThrow(/immutable/);
    await expect(
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`UPDATE invoice_lines SET amount_minor = 1 WHERE invoice_id = $1`, [id]),
      ),
    ).rejects.toThrow(/immutable/);
    await expect(
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`UPDATE invoices SET status = 'draft', sequence = NULL WHERE id = $1`, [
          id,
        ]),
      ),
    ).rejects.toThrow(/immutable|cannot go/);
    await expect(
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`DELETE FROM invoices WHERE id = $1`, [id]),
      ),
    ).rejects.toThrow(/cannot be deleted/);
  });
  it("reverting the aggregate shards folds each tenant's shards into one total; re-applying keeps RLS forced", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const period = new Date('2026-03-01T00:00:00Z');
    const write = (tenant: string, shards: readonly [number, number][]) =>
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(
          `INSERT INTO usage_aggregates (tenant_id, period_start, meter, shard, quantity)
           SELECT $1, $2, 'api_calls', s.shard, s.quantity
           FROM unnest($3::int[], $4::bigint[]) AS s(shard, quantity)`,
          [tenant, period, shards.map(([shard]) => shard), shards.map(([, q]) => q)],
        ),
      );
    await write(a, [
      [0, 2],
      [3, 5],
      [11, 7],
    ]);
    await write(b, [[4, 1]]);
    const totals = (tenant: string) =>
      withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`SELECT quantity::text AS quantity FROM usage_aggregates`),
      ) as Promise<{ quantity: string }[]>;

    const owner = await new DataSource({ type: 'postgres', url: db.ownerUrl }).initialize();
    const runner = owner.createQueryRunner();
    try {
      const migration = new UsageAggregateShards1797100000000();
      await migration.down(runner);
      expect(await totals(a)).toEqual([{ quantity: '14' }]);
      expect(await totals(b)).toEqual([{ quantity: '1' }]);
      expect(await tenantTablesWithoutRowLevelSecurityAt(db.ownerUrl)).toEqual(
        DOCUMENTED_WITHOUT_RLS,
      );
      await migration.up(runner);
      expect(await totals(a)).toEqual([{ quantity: '14' }]);
      expect(await tenantTablesWithoutRowLevelSecurityAt(db.ownerUrl)).toEqual(
        DOCUMENTED_WITHOUT_RLS,
      );
    } finally {
      await runner.release();
      await owner.destroy();
    }
  });
});
