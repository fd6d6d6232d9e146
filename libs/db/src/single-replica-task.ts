import type { DataSource } from 'typeorm';
import { SingleReplicaLock } from './single-replica-lock';

export interface SingleReplicaTaskOptions<R> {
  readonly dataSource: DataSource;
  /** Names the advisory lock; one name per kind of scheduled work. */
  readonly lockName: string;
  readonly intervalMs: number;
  /** One pass of the work, run only while this replica holds the lock. */
  readonly pass: () => Promise<R>;
  /** What a pass answers on a replica that does not hold the lock. */
  readonly notLeader: R;
  /** A pass the timer ran failed; the next tick tries again. */
  readonly onError: (error: unknown) => void;
}

/**
 * Scheduled work that runs on one replica at a time (`SingleReplicaLock`): a timer (unref'd, so
 * it never keeps a process alive) runs a pass every `intervalMs`; `tick` runs one now (tests call
 * it after moving their clock), and overlapping calls share the pass in flight. `stop` waits for
 * that pass and gives the lock up, so another replica can lead at once.
 */
export class SingleReplicaTask<R> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<R> | undefined;
  private readonly lock: SingleReplicaLock;

  constructor(private readonly options: SingleReplicaTaskOptions<R>) {
    this.lock = new SingleReplicaLock(options.dataSource, options.lockName);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.options.onError(error));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.lock.release();
  }

  tick(): Promise<R> {
    this.running ??= this.leadAndPass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async leadAndPass(): Promise<R> {
    if (!(await this.lock.acquire())) return this.options.notLeader;
    return this.options.pass();
  }
}
