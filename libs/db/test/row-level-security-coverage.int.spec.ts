import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  enableTenantRowLevelSecurity,
  enableTenantWriteRowLevelSecurity,
  migrateServiceDatabase,
  openServiceDataSource,
  tenantTablesWithoutRowLevelSecurity,
  withTenant,
} from '../src';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

class CreateTables1764230900000 implements MigrationInterface {
  name = 'CreateTables1764230900000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE covered (tenant_id text NOT NULL, body text)`);
    await enableTenantRowLevelSecurity(queryRunner, 'covered');
    await queryRunner.query(
      `CREATE TABLE lookups (key text PRIMARY KEY, tenant_id text NOT NULL, value text)`,
    );
    await enableTenantWriteRowLevelSecurity(queryRunner, 'lookups');
    await queryRunner.query(`CREATE TABLE forgotten (tenant_id text NOT NULL, body text)`);
    // RLS enabled but neither forced nor with a policy: not covered.
    await queryRunner.query(`CREATE TABLE half_done (tenant_id text NOT NULL)`);
    await queryRunner.query(`ALTER TABLE half_done ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE TABLE global_settings (name text PRIMARY KEY, owner_tenant text)`,
    );
  }
  async down(): Promise<void> {}
}

describe('row-level security coverage and tenant-bound writes', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testStackEnv().databaseAdminUrl, 'rlscover');
    const config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [CreateTables1764230900000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('lists exactly the tenant-column tables without forced row-level security', async () => {
    expect(await tenantTablesWithoutRowLevelSecurity(dataSource)).toEqual([
      'forgotten',
      'half_done',
    ]);
    expect(
      await tenantTablesWithoutRowLevelSecurity(dataSource, { columns: ['owner_tenant'] }),
    ).toEqual(['global_settings']);
  });

  it('lets a lookup table be read before a tenant is known but written only in its tenant', async () => {
    await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`INSERT INTO lookups (key, tenant_id, value) VALUES ('ka', 'a', 'x')`),
    );
    await withTenant(dataSource, 'b', (tx) =>
      tx.manager.query(`INSERT INTO lookups (key, tenant_id, value) VALUES ('kb', 'b', 'y')`),
    );
    // No tenant set: the cross-tenant lookup still works.
    expect(await dataSource.query(`SELECT key, tenant_id FROM lookups ORDER BY key`)).toEqual([
      { key: 'ka', tenant_id: 'a' },
      { key: 'kb', tenant_id: 'b' },
    ]);
    await expect(
      withTenant(dataSource, 'a', (tx) =>
        tx.manager.query(`INSERT INTO lookups (key, tenant_id) VALUES ('planted', 'b')`),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      dataSource.query(`INSERT INTO lookups (key, tenant_id) VALUES ('nobody', 'a')`),
    ).rejects.toThrow(/row-level security/);
    const changed = await withTenant(dataSource, 'a', async (tx) => [
      await tx.manager.query(`UPDATE lookups SET value = 'hijacked' WHERE tenant_id = 'b'`),
      await tx.manager.query(`DELETE FROM lookups WHERE tenant_id = 'b'`),
    ]);
    expect(changed.map((result) => result[1])).toEqual([0, 0]);
    await expect(
      withTenant(dataSource, 'a', (tx) =>
        tx.manager.query(`UPDATE lookups SET tenant_id = 'b' WHERE key = 'ka'`),
      ),
    ).rejects.toThrow(/row-level security/);
    expect(await dataSource.query(`SELECT value FROM lookups WHERE key = 'kb'`)).toEqual([
      { value: 'y' },
    ]);
    const own = await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`DELETE FROM lookups WHERE key = 'ka'`),
    );
    expect(own[1]).toBe(1);
  });
});
