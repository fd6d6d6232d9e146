import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import { withTenant } from '@tenantry/db';
import type { ErasedUserRepository } from '../persistence/erased-user-repository';
import type { MemberRepository } from '../persistence/member-repository';

const PAGE = 100;

/**
 * Clears erased users' personal data (email, display name) from every tenant that knows them
 * (`user_tenants`), each in that tenant's transaction after its derive lock, outside any
 * consumer's transaction: a fact racing the mark either saw it or is committed (or holding the
 * lock) before this erases. Idempotent, so two replicas running it at once only repeat work;
 * a user is `completed` once every tenant was cleared, and retried on the next pass otherwise.
 */
export class UserErasureTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly options: {
      readonly dataSource: DataSource;
      readonly erasedUsers: ErasedUserRepository;
      readonly members: MemberRepository;
      readonly logger: Logger;
      readonly intervalMs: number;
      readonly now: () => Date;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.options.logger.warn('user erasure pass failed', { err: error }),
      );
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass: how many users it completed. Overlapping calls share one pass. */
  tick(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
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
