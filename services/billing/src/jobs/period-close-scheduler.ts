import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { SingleReplicaTask, withTenant } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { BillingDeps } from '../application/billing-deps';
import { enqueuePeriodClose } from '../application/enqueue-period-close/enqueue-period-close';
import { markOverdue } from '../application/overdue/mark-overdue';
import { DEFAULT_SCHEDULER_CONCURRENCY } from '../config';

/** Who the scheduler's jobs and events name as their actor. */
export const SCHEDULER_ACTOR: Actor = { type: 'service', id: 'billing-scheduler' };

const LOCK = 'tenantry.billing.scheduler';

/** Due tenants read per query (by default). */
const PAGE_SIZE = 500;
/** A pass stops after this many pages (100,000 tenants by default); the next tick goes on. */
const MAX_PAGES_PER_PASS = 200;

export interface SchedulerTick {
  readonly leader: boolean;
  readonly enqueued: number;
  readonly overdue: number;
}

/**
 * Finds ended periods and invoices that fell due, and acts on them per tenant: a period-close
 * job on `billing.jobs`, or the past_due move; a few tenants of a page at once (`concurrency`),
 * each in its own transaction. One replica at a time (`SingleReplicaTask` over
 * `SingleReplicaLock`: a session-level advisory lock; the others find it taken and wait for their
 * next tick).
 */
export class PeriodCloseScheduler {
  private readonly task: SingleReplicaTask<SchedulerTick>;

  constructor(
    private readonly options: {
      readonly dataSource: DataSource;
      readonly deps: BillingDeps;
      readonly logger: Logger;
      readonly intervalMs: number;
      /** Due tenants read per query (default 500); a pass reads page after page. */
      readonly pageSize?: number;
      /** Tenants of a page handled at once, each in its own transaction (default 4). */
      readonly concurrency?: number;
    },
  ) {
    this.task = new SingleReplicaTask({
      dataSource: options.dataSource,
      lockName: LOCK,
      intervalMs: options.intervalMs,
      pass: () => this.pass(),
      notLeader: { leader: false, enqueued: 0, overdue: 0 },
      onError: (error) => options.logger.warn('billing scheduler tick failed', { err: error }),
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass (tests call it after moving the clock); overlapping calls share one pass. */
  tick(): Promise<SchedulerTick> {
    return this.task.tick();
  }

  private async pass(): Promise<SchedulerTick> {
    const { dataSource, deps, logger } = this.options;
    const now = deps.clock.now();
    const pageSize = this.options.pageSize ?? PAGE_SIZE;
    const concurrency = this.options.concurrency ?? DEFAULT_SCHEDULER_CONCURRENCY;
    let enqueued = 0;
    let overdue = 0;
    // Page after page until one is short: a month end with more tenants due than one page must
    // not leave the rest for the next tick. A page that moved nothing ends the pass too, so rows
    // that stay due for another reason cannot keep it looping.
    for (let page = 0; page < MAX_PAGES_PER_PASS; page += 1) {
      const due = await deps.schedule.dueCloses(dataSource, now, deps.closeRetryMs, pageSize);
      let moved = 0;
      await forEachAtMost(concurrency, due, async (close) => {
        const job = await this.inTenant(close.tenantId, (tx) =>
          enqueuePeriodClose(tx, deps, SCHEDULER_ACTOR),
        );
        if (job) {
          moved += 1;
          logger.info('period close enqueued', { tenant_id: close.tenantId, attempt: job.attempt });
        }
      });
      enqueued += moved;
      if (due.length < pageSize || moved === 0) break;
    }
    for (let page = 0; page < MAX_PAGES_PER_PASS; page += 1) {
      const due = await deps.schedule.dueOverdueChecks(dataSource, now, pageSize);
      let moved = 0;
      await forEachAtMost(concurrency, due, async (tenantId) => {
        moved += await this.inTenant(tenantId, (tx) => markOverdue(tx, deps));
      });
      overdue += moved;
      if (due.length < pageSize || moved === 0) break;
    }
    return { leader: true, enqueued, overdue };
  }

  private inTenant<T>(tenantId: string, work: Parameters<typeof withTenant<T>>[2]): Promise<T> {
    const context = {
      tenantId,
      actor: SCHEDULER_ACTOR,
      requestId: `billing-scheduler-${randomUUID()}`,
    };
    return runWithTenantContext(context, () => withTenant(this.options.dataSource, tenantId, work));
  }
}

/**
 * `work` for every item, at most `limit` at once, in the items' order of start. After a failure
 * no item is started; the ones in flight are waited for, then the first error is thrown (so the
 * pass fails as a sequential loop would, without leaving transactions running behind it).
 */
async function forEachAtMost<T>(
  limit: number,
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
