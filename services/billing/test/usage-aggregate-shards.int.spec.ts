import { randomUUID } from 'node:crypto';
import type { ApiCallCompleted } from '@tenantry/contracts';
import { ApiCallCompletedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import { waitFor } from '@tenantry/testing';
import { apiCallCompletedHandler } from '../src/messaging/api-call-completed.handler';
import { BillingTestBed } from './support/billing-test-bed';
import { apiCallPayload } from './support/event-test-producer';

const AT = new Date('2026-03-05T10:00:00.000Z');

/**
 * One tenant's usage on different partitions is applied at once (ADR 0017): each partition's
 * transaction adds to its own aggregate shard, and every total is the sum of the shards.
 */
describe('usage aggregate shards', () => {
  let bed: BillingTestBed;
  const topic = ApiCallCompletedEvent.topic;
  const reader = { type: 'user' as const, id: 'u-reader' };

  beforeAll(async () => {
    bed = await new BillingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  /** API calls as the inbox hands them to the handler (not produced: the test runs the transactions). */
  function calls(tenantId: string, count: number): EventEnvelope<ApiCallCompleted>[] {
    return Array.from({ length: count }, () => {
      const requestId = `req-${randomUUID()}`;
      return {
        id: randomUUID(),
        source: '/services/gateway',
        type: ApiCallCompletedEvent.type,
        specversion: '1.0',
        time: AT.toISOString(),
        subject: requestId,
        tenantid: tenantId,
        actortype: 'user',
        actorid: 'u-1',
        correlationid: requestId,
        data: apiCallPayload(tenantId, AT, requestId),
      };
    });
  }

  const apiCalls = async (tenantId: string): Promise<number> => {
    const usage = await bed.call('get', '/v1/billing/usage', tenantId, reader);
    expect(usage.status).toBe(200);
    return usage.body.apiCalls as number;
  };
  const ledger = (tenantId: string) =>
    bed.count(tenantId, `SELECT count(*)::int AS n FROM usage_ledger`);
  const shards = (tenantId: string) =>
    bed.rows<{ shard: number; quantity: string }>(
      tenantId,
      `SELECT shard, quantity::text AS quantity FROM usage_aggregates ORDER BY shard`,
    );

  /**
   * Runs the usage handler for `first` on partition 0 and keeps that transaction open until
   * `release` is called; meanwhile `second` runs on `secondPartition`, waiting at most 2 s for a
   * lock.
   */
  async function overlapping(
    tenantId: string,
    first: EventEnvelope<ApiCallCompleted>[],
    second: EventEnvelope<ApiCallCompleted>[],
    secondPartition: number,
  ): Promise<{ second: Promise<void>; release: () => void; firstCommitted: Promise<void> }> {
    const handler = apiCallCompletedHandler(bed.service.deps);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let wrote!: () => void;
    const firstWrote = new Promise<void>((resolve) => (wrote = resolve));
    const firstCommitted = withTenant(bed.service.dataSource, tenantId, async (tx) => {
      await handler(first, tx, { topic, partition: 0 });
      wrote();
      await held;
    });
    await firstWrote;
    const secondDone = withTenant(bed.service.dataSource, tenantId, async (tx) => {
      // A wait on the first transaction's aggregate row becomes an error instead of a hang.
      await tx.manager.query(`SET LOCAL lock_timeout = '2s'`);
      await handler(second, tx, { topic, partition: secondPartition });
    });
    // Settled before anyone awaits it, so a rejection is never reported as unhandled.
    secondDone.catch(() => undefined);
    return { second: secondDone, release, firstCommitted };
  }

  it("commits a tenant's transaction on another partition while one still holds its aggregate shard", async () => {
    const { tenantId } = await bed.tenant();
    const { second, release, firstCommitted } = await overlapping(
      tenantId,
      calls(tenantId, 5),
      calls(tenantId, 3),
      1,
    );
    try {
      await second;
      // The first still holds its shard, uncommitted: only the second's 3 calls are visible.
      expect(await ledger(tenantId)).toBe(3);
      expect(await apiCalls(tenantId)).toBe(3);
    } finally {
      release();
      await firstCommitted;
    }

    expect(await ledger(tenantId)).toBe(8);
    expect(await shards(tenantId)).toEqual([
      { shard: 0, quantity: '5' },
      { shard: 1, quantity: '3' },
    ]);
    expect(await apiCalls(tenantId)).toBe(8);
  });

  it('on one shard the second transaction waits for the first (what the shards avoid)', async () => {
    const { tenantId } = await bed.tenant();
    const { second, release, firstCommitted } = await overlapping(
      tenantId,
      calls(tenantId, 5),
      calls(tenantId, 3),
      0,
    );
    try {
      await expect(second).rejects.toThrow(/lock timeout/);
    } finally {
      release();
      await firstCommitted;
    }
    expect(await shards(tenantId)).toEqual([{ shard: 0, quantity: '5' }]);
  });

  it("sums a tenant's calls over the partitions the consumer read them from to the produced count", async () => {
    const { tenantId } = await bed.tenant();
    const produced = 60;
    for (let i = 0; i < produced; i++) {
      const requestId = `req-${randomUUID()}`;
      // Keyed by request id, as the gateway does: the calls spread over gateway.usage's partitions.
      await bed.producer.publish(
        tenantId,
        ApiCallCompletedEvent,
        requestId,
        apiCallPayload(tenantId, AT, requestId),
      );
    }
    await waitFor('every call in the ledger', async () =>
      (await ledger(tenantId)) === produced ? true : undefined,
    );
    const rows = await shards(tenantId);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.reduce((sum, row) => sum + Number(row.quantity), 0)).toBe(produced);
    expect(await apiCalls(tenantId)).toBe(produced);
  });
});
