import type { DataSource } from 'typeorm';
import { PeriodCloseRequestedJob } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { createLogger } from '@tenantry/observability';
import { currentTenantContext } from '@tenantry/tenancy';
import { waitFor } from '@tenantry/testing';
import type { BillingDeps } from '../src/application/billing-deps';
import { PeriodCloseScheduler } from '../src/jobs/period-close-scheduler';
import type { DueClose } from '../src/persistence/schedule-repository';
import { ScheduleRepository } from '../src/persistence/schedule-repository';
import type { Subscription } from '../src/persistence/subscription-repository';
import { SubscriptionRepository } from '../src/persistence/subscription-repository';
import { BillingTestBed } from './support/billing-test-bed';

/** The real schedule, narrowed to the tenants of one test (the bed also knows other runs' tenants). */
class ScheduleOf extends ScheduleRepository {
  constructor(private readonly tenants: ReadonlySet<string>) {
    super();
  }

  override async dueCloses(
    dataSource: DataSource,
    now: Date,
    retryMs: number,
    limit?: number,
  ): Promise<DueClose[]> {
    const due = await super.dueCloses(dataSource, now, retryMs, limit);
    return due.filter((close) => this.tenants.has(close.tenantId));
  }
}

/**
 * The real subscription lookup, the first read of a tenant's period-close transaction, watched:
 * how many tenant transactions are inside it at once, with which tenant context, and held at a
 * gate the test controls.
 */
class WatchedSubscriptions extends SubscriptionRepository {
  inFlight = 0;
  maxInFlight = 0;
  readonly entered: string[] = [];
  readonly contextMismatches: string[] = [];
  readonly requestIds = new Set<string>();

  constructor(private readonly gate: (tenantId: string, entry: number) => Promise<void>) {
    super();
  }

  override async find(tx: TenantTransaction): Promise<Subscription | undefined> {
    const context = currentTenantContext();
    if (context?.tenantId !== tx.tenantId) this.contextMismatches.push(tx.tenantId);
    if (context) this.requestIds.add(context.requestId);
    this.entered.push(tx.tenantId);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate(tx.tenantId, this.entered.length);
      return await super.find(tx);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe('the period-close scheduler handles a page’s tenants a few at once', () => {
  let bed: BillingTestBed;
  const logger = createLogger('billing-test', { level: 'silent' });

  beforeAll(async () => {
    bed = await new BillingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  async function tenants(n: number): Promise<Set<string>> {
    const ids = new Set<string>();
    for (let i = 0; i < n; i++) ids.add((await bed.tenant('free')).tenantId);
    return ids;
  }

  function scheduler(deps: BillingDeps, concurrency: number): PeriodCloseScheduler {
    return new PeriodCloseScheduler({
      dataSource: bed.service.dataSource,
      deps,
      logger,
      intervalMs: 60_000,
      concurrency,
    });
  }

  it('has as many tenant transactions in flight as the bound, never more', async () => {
    const bound = 3;
    const mine = await tenants(8);
    // A tenant waits at the gate until `bound` are inside at once (or every tenant has started),
    // so a sequential pass, which never gets there, is let through after a second instead.
    const waiting: (() => void)[] = [];
    const releaseAll = () => waiting.splice(0).forEach((release) => release());
    const subscriptions: WatchedSubscriptions = new WatchedSubscriptions(
      (_tenantId, entry) =>
        new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (subscriptions.inFlight >= bound || entry === mine.size) releaseAll();
          else setTimeout(releaseAll, 1000).unref();
        }),
    );
    const deps = { ...bed.service.deps, subscriptions, schedule: new ScheduleOf(mine) };
    const pass = scheduler(deps, bound);
    try {
      bed.clock.set('2026-04-01T00:00:05Z');
      const tick = await pass.tick();
      expect(tick).toEqual({ leader: true, enqueued: mine.size, overdue: 0 });
      expect(subscriptions.maxInFlight).toBe(bound);
      expect([...subscriptions.entered].sort()).toEqual([...mine].sort());
      // Each tenant ran in its own transaction under its own tenant context.
      expect(subscriptions.contextMismatches).toEqual([]);
      expect(subscriptions.requestIds.size).toBe(mine.size);
      for (const tenantId of mine) {
        expect(await bed.outbox(tenantId, PeriodCloseRequestedJob.type)).toHaveLength(1);
      }
      expect((await pass.tick()).enqueued).toBe(0);
    } finally {
      await pass.stop();
    }
  });

  it('on an error starts no other tenant, lets the ones in flight finish, then fails the pass', async () => {
    const mine = await tenants(6);
    const order: string[] = [];
    let releaseFirst: (() => void) | undefined;
    const subscriptions = new WatchedSubscriptions(async (_tenantId, entry) => {
      if (entry === 1) {
        // The first tenant stays in flight until the test lets it go.
        await new Promise<void>((resolve) => {
          releaseFirst = () => {
            order.push('first released');
            resolve();
          };
        });
        return;
      }
      if (entry === 3) {
        order.push('third failed');
        throw new Error('subscription read failed');
      }
    });
    const deps = { ...bed.service.deps, subscriptions, schedule: new ScheduleOf(mine) };
    const pass = scheduler(deps, 2);
    try {
      bed.clock.set('2026-04-01T00:00:05Z');
      const outcome = pass.tick().then(
        () => order.push('pass succeeded'),
        (error: unknown) => order.push(`pass failed: ${(error as Error).message}`),
      );
      await waitFor('the third tenant to fail', () =>
        order.includes('third failed') ? true : undefined,
      );
      // Long enough for a pass that did not wait for the first tenant to have failed already.
      await new Promise((resolve) => setTimeout(resolve, 300));
      releaseFirst?.();
      await outcome;
      expect(order).toEqual([
        'third failed',
        'first released',
        'pass failed: subscription read failed',
      ]);
      // Nobody after the third was started; the first and second committed, the third did not.
      expect(subscriptions.entered).toHaveLength(3);
      const [first, second, third] = subscriptions.entered as [string, string, string];
      expect(await bed.outbox(first, PeriodCloseRequestedJob.type)).toHaveLength(1);
      expect(await bed.outbox(second, PeriodCloseRequestedJob.type)).toHaveLength(1);
      expect(await bed.outbox(third, PeriodCloseRequestedJob.type)).toHaveLength(0);
      const untouched = [...mine].filter((t) => !subscriptions.entered.includes(t));
      expect(untouched).toHaveLength(3);
      for (const tenantId of untouched) {
        expect(await bed.outbox(tenantId, PeriodCloseRequestedJob.type)).toHaveLength(0);
      }
    } finally {
      await pass.stop();
    }
  });
});
