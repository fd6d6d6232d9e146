import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { SingleReplicaLock, withTenant } from '@tenantry/db';
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
 * replica at a time (`SingleReplicaLock`).
 */
export class TenantPurgeScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeTick> | undefined;
  private readonly lock: SingleReplicaLock;

  constructor(
    private readonly options: {
      readonly deps: IdentityDeps;
      readonly logger: Logger;
      readonly intervalMs: number;
    },
  ) {
    this.lock = new SingleReplicaLock(options.deps.dataSource, LOCK);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.options.logger.warn('tenant purge scheduler tick failed', { err: error }),
      );
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.lock.release();
  }

  /** One pass (tests call it after moving the clock); overlapping calls share one pass. */
  tick(): Promise<PurgeTick> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<PurgeTick> {
    if (!(await this.lock.acquire())) return { leader: false, started: [] };
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
