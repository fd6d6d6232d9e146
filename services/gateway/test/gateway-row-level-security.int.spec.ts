import { tenantTablesWithoutRowLevelSecurityAt } from '@tenantry/db';
import { GatewayHarness } from './support/gateway-harness';

/** Kept without RLS on purpose, for the reasons in docs/adr/0008; anything new needs RLS. */
const DOCUMENTED_WITHOUT_RLS = ['event_inbox', 'event_outbox'];

describe('gateway database: row-level security coverage', () => {
  const harness = new GatewayHarness();

  beforeAll(async () => {
    await harness.start();
  });

  afterAll(async () => {
    await harness.stop();
  });

  it('has no tenant-column table without RLS beyond the documented allow-list', async () => {
    expect(await tenantTablesWithoutRowLevelSecurityAt(harness.db.ownerUrl)).toEqual(
      DOCUMENTED_WITHOUT_RLS,
    );
  });
});
