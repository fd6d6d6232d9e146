import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '../src';
import { enableTenantRowLevelSecurity } from '../src';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

class CreateNotes1764230700000 implements MigrationInterface {
  name = 'CreateNotes1764230700000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE notes (id serial PRIMARY KEY, tenant_id text NOT NULL, body text NOT NULL)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, 'notes');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notes`);
  }
}

describe('row-level security through withTenant', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testStackEnv().databaseAdminUrl, 'rls');
    const config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [CreateNotes1764230700000],
      // One pooled connection: every request below reuses the same session.
      poolSize: 1,
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
    for (const tenant of ['a', 'b']) {
      await withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`INSERT INTO notes (tenant_id, body) VALUES ($1, $2)`, [
          tenant,
          `${tenant}'s note`,
        ]),
      );
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('shows no rows to a query with no tenant set', async () => {
    expect(await dataSource.query(`SELECT * FROM notes`)).toEqual([]);
    expect(await dataSource.query(`SELECT * FROM notes WHERE tenant_id = 'a'`)).toEqual([]);
  });

  it('keeps a tenant’s transaction to its own rows even with a forged WHERE clause', async () => {
    const rows = await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`SELECT tenant_id, body FROM notes WHERE tenant_id IN ('a', 'b') OR true`),
    );
    expect(rows).toEqual([{ tenant_id: 'a', body: "a's note" }]);

    const updated = await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`UPDATE notes SET body = 'hijacked' WHERE tenant_id = 'b'`),
    );
    expect(updated[1]).toBe(0);
    const deleted = await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`DELETE FROM notes WHERE tenant_id = 'b'`),
    );
    expect(deleted[1]).toBe(0);
    await expect(
      withTenant(dataSource, 'a', (tx) =>
        tx.manager.query(`INSERT INTO notes (tenant_id, body) VALUES ('b', 'planted')`),
      ),
    ).rejects.toThrow(/row-level security/);
    expect(
      await withTenant(dataSource, 'b', (tx) => tx.manager.query(`SELECT body FROM notes`)),
    ).toEqual([{ body: "b's note" }]);
  });

  it('never carries one tenant’s setting into the next use of a pooled connection', async () => {
    await withTenant(dataSource, 'a', (tx) => tx.manager.query(`SELECT 1`));
    // Same single pooled connection, outside any tenant transaction.
    expect(await dataSource.query(`SELECT current_setting('app.tenant_id', true) AS t`)).toEqual([
      { t: '' },
    ]);
    expect(await dataSource.query(`SELECT * FROM notes`)).toEqual([]);
  });

  it('runs as a role that neither owns the table nor bypasses row-level security', async () => {
    const [role] = await dataSource.query(
      `SELECT rolsuper, rolbypassrls, (SELECT tableowner FROM pg_tables WHERE tablename = 'notes') AS owner,
              current_user AS me FROM pg_roles WHERE rolname = current_user`,
    );
    expect(role.rolsuper).toBe(false);
    expect(role.rolbypassrls).toBe(false);
    expect(role.owner).not.toBe(role.me);
  });

  it('refuses a malformed tenant id before touching the database', async () => {
    await expect(withTenant(dataSource, "a' OR '1'='1", async () => 1)).rejects.toThrow(
      /invalid tenant id/,
    );
  });
});
