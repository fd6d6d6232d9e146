import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { SingleReplicaTask, withTenant } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { IdentityDeps } from '../application/identity-deps';
import { startTenantPurge } from '../application/tenant-lifecycle/start-tenant-purge';

/** Who the purge's audit records and events name as their actor. */
export const OFFBOARDING_ACTOR: Actor = { type: 'service', id: 'identity-offboarding' };

const LOCK = 'tenantry.identity.tenant-purge';

export interface PurgeTick {
  readonly leader: boolean;
  readonly started: string[];
}

/**
 * Starts the purge of every tenant whose deletion grace period ended, each in its own tenant
 * transaction (one failing tenant does not hold the others back; it is retried next tick). One
 * replica at a time (`SingleReplicaTask`).
 */
export class TenantPurgeScheduler {
  private readonly task: SingleReplicaTask<PurgeTick>;

  constructor(
    private readonly options: {
      readonly deps: IdentityDeps;
      readonly logger: Logger;
      readonly intervalMs: number;
    },
  ) {
    this.task = new SingleReplicaTask({
      dataSource: options.deps.dataSource,
      lockName: LOCK,
      intervalMs: options.intervalMs,
      pass: () => this.pass(),
      notLeader: { leader: false, started: [] },
      onError: (error) => options.logger.warn('tenant purge scheduler tick failed', { err: error }),
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass (tests call it after moving the clock); overlapping calls share one pass. */
  tick(): Promise<PurgeTick> {
    return this.task.tick();
  }

  private async pass(): Promise<PurgeTick> {
    const { deps, logger } = this.options;
    // The registry is global (no tenant yet); each purge then runs inside its tenant.
    const due = (await deps.dataSource.query(
      `SELECT id FROM tenants WHERE status = 'deleting' AND purge_after <= $1
        ORDER BY purge_after, id LIMIT 100`,
      [deps.clock.now()],
    )) as { id: string }[];
    const started: string[] = [];
    for (const { id } of due) {
      try {
        if (await this.inTenant(id, () => this.purge(id))) {
          started.push(id);
          logger.info('tenant purge started', { tenant_id: id });
        }
      } catch (error) {
        logger.warn('tenant purge could not start; retried next tick', {
          err: error,
          tenant_id: id,
        });
      }
    }
    return { leader: true, started };
  }

  private purge(tenantId: string): Promise<boolean> {
    const { deps } = this.options;
    return withTenant(deps.dataSource, tenantId, (tx) => startTenantPurge(tx, deps));
  }

  private inTenant<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const context = {
      tenantId,
      actor: OFFBOARDING_ACTOR,
      requestId: `identity-offboarding-${randomUUID()}`,
    };
    return runWithTenantContext(context, work);
  }
}
