import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  ERASED_MARKER,
  enableTenantRowLevelSecurity,
  installPersonalDataErasure,
  makeTableAppendOnly,
  migrateServiceDatabase,
  openServiceDataSource,
  withTenant,
} from '../src';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';

class CreateJournal1764231000000 implements MigrationInterface {
  name = 'CreateJournal1764231000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE registry (tenant_id text PRIMARY KEY, state text)`);
    await queryRunner.query(
      `CREATE TABLE journal (id serial PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL,
         payload jsonb, extra jsonb)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, 'journal');
    await makeTableAppendOnly(queryRunner, 'journal');
    await installPersonalDataErasure(queryRunner, {
      table: 'journal',
      jsonColumns: ['payload', 'extra'],
      personalKeys: ['email', 'name'],
      erasableTenant: `EXISTS (SELECT 1 FROM registry
        WHERE tenant_id = current_setting('app.tenant_id', true) AND state = 'deleted')`,
      rowCondition: `r.kind <> 'own'`,
    });
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE journal`);
    await queryRunner.query(`DROP TABLE registry`);
  }
}

const personal = {
  email: 'ann@example.com',
  name: 'Ann',
  role: 'admin',
  nested: { contact: 'mail ann@example.com', age: null, name: null },
  list: [{ name: 'Bo' }, 'bo@example.com', 3],
};
const redacted = {
  email: ERASED_MARKER,
  name: ERASED_MARKER,
  role: 'admin',
  nested: { contact: ERASED_MARKER, age: null, name: null },
  list: [{ name: ERASED_MARKER }, ERASED_MARKER, 3],
};

describe('installPersonalDataErasure (libs/db)', () => {
  const env = testStackEnv();
  let database: TestDatabase;
  let dataSource: DataSource;

  const insert = (tenant: string, kind: string) =>
    withTenant(dataSource, tenant, (tx) =>
      tx.manager.query(
        `INSERT INTO journal (tenant_id, kind, payload, extra) VALUES ($1, $2, $3, $4)`,
        [tenant, kind, JSON.stringify(personal), JSON.stringify({ email: 'ann@example.com' })],
      ),
    );
  const rows = (tenant: string) =>
    withTenant(dataSource, tenant, (tx) =>
      tx.manager.query(`SELECT id, kind, payload, extra FROM journal ORDER BY id`),
    ) as Promise<{ id: number; kind: string; payload: unknown; extra: unknown }[]>;
  const erase = (tenant: string) =>
    withTenant(dataSource, tenant, async (tx) => {
      const [row] = (await tx.manager.query(`SELECT journal_erase_personal_data() AS n`)) as {
        n: number;
      }[];
      return row?.n;
    });

  beforeAll(async () => {
    database = await createTestDatabase(env.databaseAdminUrl, 'erasure');
    const config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [CreateJournal1764231000000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
    for (const tenant of ['a', 'b']) {
      await insert(tenant, 'event');
      await insert(tenant, 'own');
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('refuses a tenant that is not deleted, as the application role', async () => {
    await expect(erase('a')).rejects.toThrow(/tenant a is not deleted/);
  });

  it('redacts listed keys and email-shaped strings at any depth, in that tenant’s rows only', async () => {
    const before = await rows('a');
    await dataSource.query(`INSERT INTO registry VALUES ('a', 'deleted')`);
    expect(await erase('a')).toBe(1);
    const after = await rows('a');
    expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    expect(after).toEqual([
      expect.objectContaining({
        kind: 'event',
        payload: redacted,
        extra: { email: ERASED_MARKER },
      }),
      // Rows outside rowCondition stay whole.
      expect.objectContaining({ kind: 'own', payload: personal }),
    ]);
    expect((await rows('b')).map((row) => row.payload)).toEqual([personal, personal]);
    expect(await erase('a')).toBe(0);
  });

  it('redacts a row inserted after the erasure, and the seam stays closed afterwards', async () => {
    await insert('a', 'event');
    const latest = (await rows('a')).at(-1);
    expect(latest?.payload).toEqual(redacted);
    await expect(
      withTenant(dataSource, 'a', (tx) => tx.manager.query(`UPDATE journal SET payload = NULL`)),
    ).rejects.toThrow(/permission denied/);
  });
});
