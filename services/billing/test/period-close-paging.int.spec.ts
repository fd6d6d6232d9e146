import { PeriodCloseRequestedJob } from '@tenantry/contracts';
import { createLogger } from '@tenantry/observability';
import { PeriodCloseScheduler } from '../src/jobs/period-close-scheduler';
import { BillingTestBed } from './support/billing-test-bed';

/**
 * A month end with more tenants due than one page of the scheduler's query: one pass enqueues
 * every close, page after page, instead of leaving the rest for the next tick (30 s later).
 */
describe('the period-close scheduler with more tenants due than one page', () => {
  let bed: BillingTestBed;

  beforeAll(async () => {
    bed = await new BillingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('enqueues every due close in one pass, and none again in the next', async () => {
    const tenants: string[] = [];
    for (let i = 0; i < 5; i++) tenants.push((await bed.tenant('free')).tenantId);
    const scheduler = new PeriodCloseScheduler({
      dataSource: bed.service.dataSource,
      deps: bed.service.deps,
      logger: createLogger('billing-test', { level: 'silent' }),
      intervalMs: 60_000,
      pageSize: 2,
    });
    try {
      bed.clock.set('2026-04-01T00:00:05Z');
      const first = await scheduler.tick();
      // The bed also knows the tenants other runs created on the shared identity topic.
      expect(first.leader).toBe(true);
      expect(first.enqueued).toBeGreaterThanOrEqual(tenants.length);
      for (const tenantId of tenants) {
        expect(await bed.outbox(tenantId, PeriodCloseRequestedJob.type)).toHaveLength(1);
      }
      expect((await scheduler.tick()).enqueued).toBe(0);
    } finally {
      await scheduler.stop();
    }
  });
});
