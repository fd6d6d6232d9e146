import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrateServiceDatabase } from '../src';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

class CreateWidgets1764400000000 implements MigrationInterface {
  name = 'CreateWidgets1764400000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE widgets`);
  }
}

// Slow on purpose, so both replicas are inside the migrate step at the same time; the plain
// CREATE (no IF NOT EXISTS) fails if it ever runs twice.
class SlowCreateGadgets1764400001000 implements MigrationInterface {
  name = 'SlowCreateGadgets1764400001000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SELECT pg_sleep(1)`);
    await queryRunner.query(`CREATE TABLE gadgets (id serial PRIMARY KEY, widget_id int NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE gadgets`);
  }
}

class IndexGadgets1764400002000 implements MigrationInterface {
  name = 'IndexGadgets1764400002000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX gadgets_widget_idx ON gadgets (widget_id)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX gadgets_widget_idx`);
  }
}

describe('migrateServiceDatabase from several replicas at once', () => {
  const env = testStackEnv();
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(env.databaseAdminUrl, 'migrlock');
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('runs each migration once, and every replica starts', async () => {
    const config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [
        CreateWidgets1764400000000,
        SlowCreateGadgets1764400001000,
        IndexGadgets1764400002000,
      ],
    };

    const results = await Promise.all([
      migrateServiceDatabase(config),
      migrateServiceDatabase(config),
      migrateServiceDatabase(config),
    ]);

    // One replica ran all three; the others waited for the lock and found nothing to run.
    const ran = results.map((names) => names.length).sort();
    expect(ran).toEqual([0, 0, 3]);

    const client = new Client({ connectionString: database.ownerUrl });
    await client.connect();
    try {
      const rows = await client.query<{ name: string }>(`SELECT name FROM migrations ORDER BY id`);
      expect(rows.rows.map((row) => row.name)).toEqual([
        'CreateWidgets1764400000000',
        'SlowCreateGadgets1764400001000',
        'IndexGadgets1764400002000',
      ]);
      const tables = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_name IN ('widgets', 'gadgets') ORDER BY 1`,
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(['gadgets', 'widgets']);
      // The lock is a session lock: nothing may still hold it once every replica is done.
      const held = await client.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database =
           (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(held.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});
