import { randomUUID } from 'node:crypto';
import type { InboxOutcome } from '@tenantry/events';
import { testStackEnv, waitFor } from '@tenantry/testing';
import type { FinishedBatch } from './support/private-topic-billing';
import { PrivateTopicBilling } from './support/private-topic-billing';

/** A's calls before B's in the partition, and after it. */
const AHEAD = 1100;
const BEHIND = 1400;
/** A's calls before B's when they take several fetches (kafkajs: 1 MiB, ≈ 1,600 calls each). */
const AHEAD_OF_SEVERAL_FETCHES = 6000;
/** The inbox's default tenant group (`maxEventsPerTransaction`). */
const GROUP = 500;

/**
 * Fairness as an order, never as a time: a tenant's flood and another tenant's single call on one
 * partition. The inbox runs what it holds of a partition in tenant rounds (one group of up to 500
 * per tenant per round), and billing's usage consumer reads ahead of what it applies, so B's call
 * is committed before A's backlog that was ahead of it in the partition, in one fetched batch or
 * several. The commit order comes from the inbox's `onOutcome`, called once per event right after
 * the transaction that applied it committed.
 */
describe('a tenant flooding usage does not hold back another tenant', () => {
  let billing: PrivateTopicBilling;

  beforeAll(async () => {
    // One partition, so A's flood and B's call share it (keys are `<tenant>:<request id>`).
    billing = await new PrivateTopicBilling({ ...testStackEnv(), usagePartitions: 1 }).setUp();
  });

  afterAll(async () => {
    await billing?.tearDown();
  });

  it('commits B before the A backlog that was ahead of it, and counts every call once', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await billing.createTenants([a, b]);

    const ahead = [];
    for (let i = 0; i < AHEAD; i++) ahead.push(await billing.usageMessage(a));
    const single = await billing.usageMessage(b);
    const behind = [];
    for (let i = 0; i < BEHIND; i++) behind.push(await billing.usageMessage(a));
    const all = [...ahead, single, ...behind];
    // Everything is in the partition before billing's usage consumer starts, so its first fetch
    // starts at offset 0 and returns as much as fits (kafkajs: 1 MiB per partition).
    const offsets = await billing.produce(
      billing.usageTopic,
      all.map((e) => e.message),
      100,
    );
    const singleOffset = BigInt(offsets[AHEAD]!);
    expect(singleOffset).toBe(BigInt(AHEAD));

    const committed: { tenant: string; id: string }[] = [];
    const outcomes: InboxOutcome[] = [];
    const batches: FinishedBatch[] = [];
    const { usage } = billing.consumers({
      outcome: (_consumer, outcome, metadata) => {
        outcomes.push(outcome);
        if (metadata) committed.push({ tenant: metadata.tenantid, id: metadata.id });
      },
      batch: (batch) => {
        if (batch.size > 0) batches.push(batch);
      },
    });
    await billing.start(usage);
    await waitFor('every call handled', () => (outcomes.length >= all.length ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 100,
    });
    await billing.stop(usage);

    // The setting: B's call came in the same fetched batch as all of A's calls ahead of it.
    const first = batches[0];
    expect(first).toBeDefined();
    expect(BigInt(first!.firstOffset)).toBe(0n);
    expect(BigInt(first!.lastOffset)).toBeGreaterThanOrEqual(singleOffset);

    // The order: when B's call was committed, A's calls ahead of it were not all applied yet;
    // at most A's first group (beside which B's ran) and the one after it were.
    const bAt = committed.findIndex((e) => e.id === single.metadata.id);
    expect(bAt).toBeGreaterThanOrEqual(0);
    const aBeforeB = committed.slice(0, bAt).filter((e) => e.tenant === a).length;
    expect(aBeforeB).toBeLessThan(AHEAD);
    expect(aBeforeB).toBeLessThanOrEqual(2 * GROUP);

    // Exactly once: every produced call applied once, counted against what was produced.
    expect(outcomes.filter((o) => o !== 'processed')).toEqual([]);
    expect(new Set(committed.map((e) => e.id)).size).toBe(all.length);
    expect(committed.filter((e) => e.tenant === a)).toHaveLength(AHEAD + BEHIND);
    expect(await billing.usageOf(a)).toEqual({
      ledger: AHEAD + BEHIND,
      aggregated: AHEAD + BEHIND,
    });
    expect(await billing.usageOf(b)).toEqual({ ledger: 1, aggregated: 1 });
  });

  it("reads ahead of A's backlog of several fetches: B is committed long before that backlog is applied", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await billing.createTenants([a, b]);
    const ahead = [];
    for (let i = 0; i < AHEAD_OF_SEVERAL_FETCHES; i++) ahead.push(await billing.usageMessage(a));
    const single = await billing.usageMessage(b);
    const all = [...ahead, single];
    // A topic of its own (one partition): the first test's calls are on the shared one.
    const topic = await billing.provisionUsageTopic('several-fetches', 1);
    // 100 calls per produce request: record batches the fetches can end between.
    await billing.produce(
      topic,
      all.map((e) => e.message),
      100,
    );

    const committed: { tenant: string; id: string }[] = [];
    const outcomes: InboxOutcome[] = [];
    const batches: FinishedBatch[] = [];
    const { usage } = billing.consumers(
      {
        outcome: (_consumer, outcome, metadata) => {
          outcomes.push(outcome);
          if (metadata) committed.push({ tenant: metadata.tenantid, id: metadata.id });
        },
        batch: (batch) => batches.push(batch),
      },
      { usageTopic: topic },
    );
    await billing.start(usage);
    await waitFor('every call handled', () => (outcomes.length >= all.length ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    await billing.stop(usage);

    // The setting: B's call was fetched in a later batch than A's first ones.
    expect(batches.length).toBeGreaterThan(1);
    expect(BigInt(batches[0]!.lastOffset)).toBeLessThan(BigInt(AHEAD_OF_SEVERAL_FETCHES));
    // Without read-ahead B waits for every fetch ahead of it: all but its own batch's share of A.
    const bAt = committed.findIndex((e) => e.id === single.metadata.id);
    expect(bAt).toBeGreaterThanOrEqual(0);
    const aBeforeB = committed.slice(0, bAt).filter((e) => e.tenant === a).length;
    expect(aBeforeB).toBeLessThan(AHEAD_OF_SEVERAL_FETCHES / 2);

    expect(outcomes.filter((o) => o !== 'processed')).toEqual([]);
    expect(new Set(committed.map((e) => e.id)).size).toBe(all.length);
    expect(await billing.usageOf(a)).toEqual({
      ledger: AHEAD_OF_SEVERAL_FETCHES,
      aggregated: AHEAD_OF_SEVERAL_FETCHES,
    });
    expect(await billing.usageOf(b)).toEqual({ ledger: 1, aggregated: 1 });
  });
});
