import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  migrateServiceDatabase,
  openServiceDataSource,
  tenantTablesWithoutRowLevelSecurityAt,
  withTenant,
} from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import { REPORTING_MIGRATIONS } from '../src/persistence/migrations/reporting-migrations';

/** Kept without RLS on purpose (docs/adr/0008). */
const DOCUMENTED_WITHOUT_RLS = ['event_inbox', 'event_outbox'];

describe('reporting database schema', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(testStackEnv().databaseAdminUrl, 'reporting_schema');
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: REPORTING_MIGRATIONS,
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('puts every read-model table under forced RLS', async () => {
    expect(await tenantTablesWithoutRowLevelSecurityAt(db.ownerUrl)).toEqual(
      DOCUMENTED_WITHOUT_RLS,
    );
  });

  it('another tenant neither sees nor writes a tenant’s buckets, even as the owner', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const insert = (tenant: string) =>
      `INSERT INTO usage_hourly (tenant_id, bucket_start, route_group, status_class, calls,
         server_errors, latency_sum_us, latency_max_ms, latency_histogram)
       VALUES ('${tenant}', '2026-03-01T00:00:00Z', 'members', '2xx', 1, 0, 1000, 1,
               array_fill(0::bigint, ARRAY[70]))`;
    await withTenant(dataSource, a, (tx) => tx.manager.query(insert(a)));
    expect(
      await withTenant(dataSource, b, (tx) =>
        tx.manager.query(`SELECT * FROM usage_hourly WHERE tenant_id = $1`, [a]),
      ),
    ).toEqual([]);
    await expect(withTenant(dataSource, b, (tx) => tx.manager.query(insert(a)))).rejects.toThrow(
      /row-level security/,
    );
  });
});
