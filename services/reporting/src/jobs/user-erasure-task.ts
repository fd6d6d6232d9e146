import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { SingleReplicaTask, withTenant } from '@tenantry/db';
import type { ErasedUserRepository } from '../persistence/erased-user-repository';
import type { MemberRepository } from '../persistence/member-repository';

const PAGE = 100;
const LOCK = 'tenantry.reporting.user-erasure';

/**
 * Clears erased users' personal data (email, display name) from every tenant that knows them
 * (`user_tenants`), each in that tenant's transaction after its derive lock, outside any
 * consumer's transaction: a fact racing the mark either saw it or is committed (or holding the
 * lock) before this erases. One replica at a time (`SingleReplicaTask`; the work is idempotent
 * anyway); a user is `completed` once every tenant was cleared, and retried on the next pass
 * otherwise.
 */
export class UserErasureTask {
  private readonly task: SingleReplicaTask<number>;

  constructor(
    private readonly options: {
      readonly dataSource: DataSource;
      readonly erasedUsers: ErasedUserRepository;
      readonly members: MemberRepository;
      readonly logger: Logger;
      readonly intervalMs: number;
      readonly now: () => Date;
    },
  ) {
    this.task = new SingleReplicaTask({
      dataSource: options.dataSource,
      lockName: LOCK,
      intervalMs: options.intervalMs,
      pass: () => this.pass(),
      notLeader: 0,
      onError: (error) => options.logger.warn('user erasure pass failed', { err: error }),
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass: how many users it completed (0 on a replica that does not lead). */
  tick(): Promise<number> {
    return this.task.tick();
  }

  private async pass(): Promise<number> {
    const { dataSource, erasedUsers, members, logger } = this.options;
    let completed = 0;
    for (const userId of await erasedUsers.pending(dataSource, PAGE)) {
      let rows = 0;
      for (const tenantId of await erasedUsers.tenantsOf(dataSource, userId)) {
        rows += await withTenant(dataSource, tenantId, (tx) =>
          members.erasePersonalData(tx, userId),
        );
      }
      await erasedUsers.completed(dataSource, userId, this.options.now());
      completed += 1;
      logger.info('user erased from the read models', { user_id: userId, rows });
    }
    return completed;
  }
}
