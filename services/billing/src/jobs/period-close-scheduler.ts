import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { SingleReplicaTask, withTenant } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { BillingDeps } from '../application/billing-deps';
import { enqueuePeriodClose } from '../application/enqueue-period-close/enqueue-period-close';
import { markOverdue } from '../application/overdue/mark-overdue';

/** Who the scheduler's jobs and events name as their actor. */
export const SCHEDULER_ACTOR: Actor = { type: 'service', id: 'billing-scheduler' };

const LOCK = 'tenantry.billing.scheduler';

export interface SchedulerTick {
  readonly leader: boolean;
  readonly enqueued: number;
  readonly overdue: number;
}

/**
 * Finds ended periods and invoices that fell due, and acts on them per tenant: a period-close
 * job on `billing.jobs`, or the past_due move. One replica at a time (`SingleReplicaTask` over `SingleReplicaLock`: a
 * session-level advisory lock; the others find it taken and wait for their next tick).
 */
export class PeriodCloseScheduler {
  private readonly task: SingleReplicaTask<SchedulerTick>;

  constructor(
    private readonly options: {
      readonly dataSource: DataSource;
      readonly deps: BillingDeps;
      readonly logger: Logger;
      readonly intervalMs: number;
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
    let enqueued = 0;
    let overdue = 0;
    for (const due of await deps.schedule.dueCloses(dataSource, now, deps.closeRetryMs)) {
      const job = await this.inTenant(due.tenantId, (tx) =>
        enqueuePeriodClose(tx, deps, SCHEDULER_ACTOR),
      );
      if (job) {
        enqueued += 1;
        logger.info('period close enqueued', { tenant_id: due.tenantId, attempt: job.attempt });
      }
    }
    for (const tenantId of await deps.schedule.dueOverdueChecks(dataSource, now)) {
      overdue += await this.inTenant(tenantId, (tx) => markOverdue(tx, deps));
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
