import { Client } from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  AUDIT_ERASURE_SETTING,
  enableTenantRowLevelSecurity,
  makeTableAppendOnly,
  migrateServiceDatabase,
  openServiceDataSource,
  roleOfUrl,
  withTenant,
} from '../src';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

class CreateLedger1764230800000 implements MigrationInterface {
  name = 'CreateLedger1764230800000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE ledger (id serial PRIMARY KEY, tenant_id text NOT NULL, entry text NOT NULL)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, 'ledger');
    await makeTableAppendOnly(queryRunner, 'ledger');
    // An ordinary table next to it keeps every right.
    await queryRunner.query(`CREATE TABLE scratch (id serial PRIMARY KEY, note text NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE scratch`);
    await queryRunner.query(`DROP TABLE ledger`);
  }
}

/** Runs `work` in a transaction on a fresh connection and always rolls back. */
async function inTransaction(
  url: string,
  tenantId: string,
  work: (client: Client) => Promise<unknown>,
  settings: Record<string, string> = {},
): Promise<unknown> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    for (const [name, value] of Object.entries(settings)) {
      await client.query(`SELECT set_config($1, $2, true)`, [name, value]);
    }
    return await work(client);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

describe('append-only tables (makeTableAppendOnly + migrateServiceDatabase)', () => {
  const env = testStackEnv();
  let database: TestDatabase;
  let dataSource: DataSource;
  let config: Parameters<typeof migrateServiceDatabase>[0];
  const erasure = { [AUDIT_ERASURE_SETTING]: 'on' };

  beforeAll(async () => {
    database = await createTestDatabase(env.databaseAdminUrl, 'appendonly');
    config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [CreateLedger1764230800000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
    for (const tenant of ['a', 'b']) {
      await withTenant(dataSource, tenant, (tx) =>
        tx.manager.query(`INSERT INTO ledger (tenant_id, entry) VALUES ($1, 'opened')`, [tenant]),
      );
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function privileges(table: string): Promise<Record<string, boolean>> {
    const [row] = await dataSource.query(
      `SELECT has_table_privilege(current_user, $1, 'INSERT') AS insert,
              has_table_privilege(current_user, $1, 'SELECT') AS select,
              has_table_privilege(current_user, $1, 'UPDATE') AS update,
              has_table_privilege(current_user, $1, 'DELETE') AS delete,
              has_table_privilege(current_user, $1, 'TRUNCATE') AS truncate`,
      [table],
    );
    return row;
  }

  it('leaves the application role INSERT and SELECT only, and other tables untouched', async () => {
    expect(await privileges('ledger')).toEqual({
      insert: true,
      select: true,
      update: false,
      delete: false,
      truncate: false,
    });
    expect(await privileges('scratch')).toMatchObject({ update: true, delete: true });
    const rows = await withTenant(dataSource, 'a', (tx) =>
      tx.manager.query(`SELECT entry FROM ledger`),
    );
    expect(rows).toEqual([{ entry: 'opened' }]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE as the application role, even with the erasure setting', async () => {
    for (const sql of [`UPDATE ledger SET entry = 'rewritten'`, `DELETE FROM ledger`]) {
      await expect(inTransaction(database.appUrl, 'a', (c) => c.query(sql))).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        inTransaction(database.appUrl, 'a', (c) => c.query(sql), erasure),
      ).rejects.toThrow(/permission denied/);
    }
    await expect(
      inTransaction(database.appUrl, 'a', (c) => c.query(`TRUNCATE ledger`)),
    ).rejects.toThrow(/permission denied/);
  });

  it('still refuses through the trigger when a grant slips, and the next migration run revokes it again', async () => {
    const owner = new Client({ connectionString: database.ownerUrl });
    await owner.connect();
    try {
      await owner.query(
        `GRANT UPDATE, DELETE, TRUNCATE ON ledger TO "${roleOfUrl(database.appUrl)}"`,
      );
    } finally {
      await owner.end();
    }
    expect(await privileges('ledger')).toMatchObject({ update: true, delete: true });
    for (const sql of [`UPDATE ledger SET entry = 'rewritten'`, `DELETE FROM ledger`]) {
      await expect(inTransaction(database.appUrl, 'a', (c) => c.query(sql))).rejects.toThrow(
        /ledger is append-only/,
      );
      // The app role is not the owner: the erasure setting alone opens nothing.
      await expect(
        inTransaction(database.appUrl, 'a', (c) => c.query(sql), erasure),
      ).rejects.toThrow(/ledger is append-only/);
    }
    await expect(
      inTransaction(database.appUrl, 'a', (c) => c.query(`TRUNCATE ledger`)),
    ).rejects.toThrow(/ledger is append-only/);
    await expect(
      inTransaction(database.appUrl, 'a', (c) =>
        c.query(`ALTER TABLE ledger DISABLE TRIGGER ledger_append_only`),
      ),
    ).rejects.toThrow(/must be owner/);

    expect(await migrateServiceDatabase(config)).toEqual([]);
    expect(await privileges('ledger')).toMatchObject({
      update: false,
      delete: false,
      truncate: false,
    });
  });

  it('refuses the owner role too, unless its transaction declares the erasure', async () => {
    await expect(
      inTransaction(database.ownerUrl, 'a', (c) => c.query(`DELETE FROM ledger`)),
    ).rejects.toThrow(/ledger is append-only: DELETE refused/);
    await expect(
      inTransaction(database.ownerUrl, 'a', (c) => c.query(`TRUNCATE ledger`), erasure),
    ).rejects.toThrow(/ledger is append-only: TRUNCATE refused/);
    // The erasure seam: owner role, setting on, and still only the transaction's tenant (RLS).
    const erased = await inTransaction(
      database.ownerUrl,
      'a',
      async (c) => {
        const deleted = await c.query(`DELETE FROM ledger`);
        const left = await c.query(`SELECT count(*)::int AS n FROM ledger`);
        return { deleted: deleted.rowCount, left: left.rows[0].n };
      },
      erasure,
    );
    expect(erased).toEqual({ deleted: 1, left: 0 });
  });

  it('still takes INSERTs through withTenant', async () => {
    await withTenant(dataSource, 'b', (tx) =>
      tx.manager.query(`INSERT INTO ledger (tenant_id, entry) VALUES ('b', 'second')`),
    );
    const rows = await withTenant(dataSource, 'b', (tx) =>
      tx.manager.query(`SELECT entry FROM ledger ORDER BY id`),
    );
    expect(rows).toEqual([{ entry: 'opened' }, { entry: 'second' }]);
  });
});
