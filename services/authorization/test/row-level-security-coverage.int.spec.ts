import { Client } from 'pg';
import { tenantTablesWithoutRowLevelSecurity } from '@tenantry/db';
import { AuthorizationTestBed } from './support/authorization-test-bed';

/** Kept without RLS on purpose, for the reasons in docs/adr/0008; anything new needs RLS. */
const DOCUMENTED_WITHOUT_RLS = ['event_inbox', 'event_outbox'];

describe('authorization database: row-level security coverage', () => {
  let bed: AuthorizationTestBed;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('has no tenant-column table without RLS beyond the documented allow-list', async () => {
    const client = new Client({ connectionString: bed.db.ownerUrl });
    await client.connect();
    try {
      const db = {
        query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows,
      };
      expect(await tenantTablesWithoutRowLevelSecurity(db)).toEqual(DOCUMENTED_WITHOUT_RLS);
    } finally {
      await client.end();
    }
  });
});
