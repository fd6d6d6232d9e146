import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Leadership for scheduled work that runs on one replica at a time (DESIGN.md): a session-level
 * PostgreSQL advisory lock held on a connection of its own. The others find it taken and try
 * again on their next tick; a dead leader's connection drops and frees the lock.
 */
export class SingleReplicaLock {
  private holder: QueryRunner | undefined;

  constructor(
    private readonly dataSource: DataSource,
    /** Names the lock (hashed); one name per kind of scheduled work. */
    private readonly name: string,
  ) {}

  /** True when this replica holds the lock (kept from an earlier call, or taken now). */
  async acquire(): Promise<boolean> {
    if (this.holder) {
      try {
        await this.holder.query('SELECT 1');
        return true;
      } catch {
        await this.holder.release().catch(() => undefined);
        this.holder = undefined;
      }
    }
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows = (await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [
        this.name,
      ])) as { locked: boolean }[];
      if (rows[0]?.locked) {
        this.holder = runner;
        return true;
      }
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
    await runner.release();
    return false;
  }

  /** Gives the lock up (on stop), so another replica can lead at once. */
  async release(): Promise<void> {
    const holder = this.holder;
    this.holder = undefined;
    if (!holder) return;
    await holder
      .query(`SELECT pg_advisory_unlock(hashtext($1))`, [this.name])
      .catch(() => undefined);
    await holder.release();
  }
}
