import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { RelayTestBed } from './support/relay-test-bed';

const LIMIT_BYTES = 10 * 1024;

/** Every row the bed's reader received, then a pause: late duplicates would show up in it. */
async function settledReceived(bed: RelayTestBed, count: number): Promise<string[]> {
  await waitFor(`${count} rows received`, () => bed.received.length >= count, {
    timeoutMs: 30_000,
  });
  await waitFor('the backlog empty', async () =>
    (await bed.relay.backlog()) === 0 ? true : undefined,
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return bed.received.map((r) => r.orderId);
}

// A pass reads the next batch while one is sent and marks a batch while the next is sent; batches
// of 3 make every pass span several of them.
describe('relay passes of several batches (batch size 3)', () => {
  let bed: RelayTestBed;

  beforeAll(async () => {
    bed = await new RelayTestBed().setUp({
      topicConfig: { 'max.message.bytes': String(LIMIT_BYTES) },
      relay: { batchSize: 3, batchesPerPass: 4, pollIntervalMs: 200, maxRefusals: 2 },
    });
    await bed.startReader();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('publishes a backlog of many batches once each, in order per key, each row marked once', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const orders = Array.from({ length: 50 }, (_, i) => ({
      data: { orderId: `o-${i + 1}` },
      key: `${tenant}:cart-${i % 2}`,
    }));
    const ids = await bed.writeMany(tenant, orders);

    const received = await settledReceived(bed, 50);
    expect(received).toHaveLength(50);
    expect(new Set(received).size).toBe(50);
    for (const cart of [0, 1]) {
      const key = `${tenant}:cart-${cart}`;
      expect(bed.received.filter((r) => r.key === key).map((r) => r.orderId)).toEqual(
        orders.filter((o) => o.key === key).map((o) => o.data.orderId),
      );
    }
    const rows = (await bed.rows()).filter((r) => ids.includes(r.id));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['published', 1]));
  });

  it('handles a row refused for good in the second batch of a pass; the batch before is not re-sent', async () => {
    bed.received.length = 0;
    const tenant = `tenant-${randomUUID()}`;
    const key = (cart: string): string => `${tenant}:cart-${cart}`;
    // Batches as the relay reads them: [a-1 b-1 c-1] [a-2 a-poison b-2] [a-3 b-3 c-2] [c-3].
    const ids = await bed.writeMany(tenant, [
      { data: { orderId: 'a-1' }, key: key('a') },
      { data: { orderId: 'b-1' }, key: key('b') },
      { data: { orderId: 'c-1' }, key: key('c') },
      { data: { orderId: 'a-2' }, key: key('a') },
      { data: { orderId: 'a-poison', note: 'x'.repeat(50 * LIMIT_BYTES) }, key: key('a') },
      { data: { orderId: 'b-2' }, key: key('b') },
      { data: { orderId: 'a-3' }, key: key('a') },
      { data: { orderId: 'b-3' }, key: key('b') },
      { data: { orderId: 'c-2' }, key: key('c') },
      { data: { orderId: 'c-3' }, key: key('c') },
    ]);
    const poisonId = ids[4];

    const received = await settledReceived(bed, 9);
    expect(received).toHaveLength(9);
    const perKey = (cart: string): string[] =>
      bed.received.filter((r) => r.key === key(cart)).map((r) => r.orderId);
    expect(perKey('a')).toEqual(['a-1', 'a-2', 'a-3']);
    expect(perKey('b')).toEqual(['b-1', 'b-2', 'b-3']);
    expect(perKey('c')).toEqual(['c-1', 'c-2', 'c-3']);

    const rows = new Map((await bed.rows()).map((r) => [r.id, r]));
    const poison = rows.get(poisonId as string);
    expect(poison).toMatchObject({ status: 'set_aside', refusals: 2 });
    expect(poison?.last_error).toMatch(/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
    // The first batch was sent once and marked in the pass that met the refusal.
    for (const id of ids.slice(0, 3)) {
      expect(rows.get(id)).toMatchObject({ status: 'published', attempts: 1 });
    }
    for (const id of ids.filter((id) => id !== poisonId)) {
      expect(rows.get(id)?.status).toBe('published');
    }
    expect(await bed.counterValue('outbox_set_aside_total')).toBe(1);
  });
});
