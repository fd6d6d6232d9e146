import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { BillingTestBed } from './support/billing-test-bed';

describe('usage metering through the inbox', () => {
  let bed: BillingTestBed;

  beforeAll(async () => {
    bed = await new BillingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  const ledger = (tenantId: string) =>
    bed.count(tenantId, `SELECT count(*)::int AS n FROM usage_ledger`);
  const aggregate = async (tenantId: string) =>
    Number(
      (
        await bed.rows<{ q: string }>(
          tenantId,
          `SELECT coalesce(sum(quantity), 0)::text AS q FROM usage_aggregates`,
        )
      )[0]?.q ?? 0,
    );

  it('counts every call once: redelivered, and replayed after a consumer restart', async () => {
    const { tenantId } = await bed.tenant();
    const produced: string[] = [];
    for (let i = 0; i < 40; i++) {
      produced.push((await bed.producer.apiCall(tenantId, new Date('2026-03-05T10:00:00Z'))).id);
    }
    await waitFor('all calls in the ledger', async () =>
      (await ledger(tenantId)) === produced.length ? true : undefined,
    );
    // Every event delivered a second time, same ids.
    await bed.producer.redeliver(produced);
    // A restart: a new replica of the same consumer groups, then everything once more.
    await bed.service.stop();
    bed.instances.shift();
    await bed.startInstance();
    await bed.producer.redeliver(produced);
    const marker = await bed.producer.apiCall(tenantId, new Date('2026-03-05T11:00:00Z'));
    await waitFor('the marker after the replays', async () =>
      (await bed.count(
        tenantId,
        `SELECT count(*)::int AS n FROM usage_ledger WHERE event_id = $1`,
        [marker.id],
      )) === 1
        ? true
        : undefined,
    );
    // The independent count: what the producer wrote, plus the marker.
    expect(await ledger(tenantId)).toBe(produced.length + 1);
    expect(await aggregate(tenantId)).toBe(produced.length + 1);
    const usage = await bed.call('get', '/v1/billing/usage', tenantId, {
      type: 'user',
      id: 'u-reader',
    });
    expect(usage.status).toBe(200);
    expect(usage.body.apiCalls).toBe(produced.length + 1);
  });

  it('the ledger itself refuses a second row for one (tenant, event id)', async () => {
    const { tenantId } = await bed.tenant();
    const first = await bed.producer.apiCall(tenantId, new Date('2026-03-05T10:00:00Z'));
    await waitFor('the call in the ledger', async () =>
      (await ledger(tenantId)) === 1 ? true : undefined,
    );
    // As if another consumer (or someone re-producing the event) got past its own inbox.
    const again = await bed.rows<{ n: number }>(
      tenantId,
      `WITH i AS (INSERT INTO usage_ledger (tenant_id, event_id, meter, quantity, occurred_at, period_start)
        VALUES ($1, $2, 'api_calls', 1, now(), now()) ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*)::int AS n FROM i`,
      [tenantId, first.id],
    );
    expect(again[0]?.n).toBe(0);
  });

  it('dead-letters usage of an unknown tenant and of a payload naming another tenant', async () => {
    const { tenantId } = await bed.tenant();
    const before = bed.usageOutcomes.filter((o) => o === 'dead_lettered').length;
    await bed.producer.apiCall(randomUUID(), new Date('2026-03-05T10:00:00Z'));
    await bed.producer.apiCall(randomUUID(), new Date('2026-03-05T10:00:00Z'), {}, tenantId);
    await waitFor('both refused to the DLQ', async () =>
      bed.usageOutcomes.filter((o) => o === 'dead_lettered').length >= before + 2
        ? true
        : undefined,
    );
    expect(await ledger(tenantId)).toBe(0);
  });
});
