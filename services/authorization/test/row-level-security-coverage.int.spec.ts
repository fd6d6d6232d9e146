import { tenantTablesWithoutRowLevelSecurityAt } from '@tenantry/db';
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
    expect(await tenantTablesWithoutRowLevelSecurityAt(bed.db.ownerUrl)).toEqual(
      DOCUMENTED_WITHOUT_RLS,
    );
  });
});
