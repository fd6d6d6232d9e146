import type { DataSource } from 'typeorm';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv, waitFor } from '@tenantry/testing';
import { SingleReplicaTask, openServiceDataSource } from '../src';

interface Pass {
  readonly leader: boolean;
  readonly replica: string;
}

// Two "replicas" of one service: each its own pool on the same database, as in production.
describe('SingleReplicaTask', () => {
  let db: TestDatabase;
  const pools: DataSource[] = [];
  const tasks: SingleReplicaTask<Pass>[] = [];
  const passes: string[] = [];
  const errors: unknown[] = [];

  async function replica(
    name: string,
    pass?: () => Promise<Pass>,
  ): Promise<SingleReplicaTask<Pass>> {
    const dataSource = await openServiceDataSource({
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [],
    });
    pools.push(dataSource);
    const task = new SingleReplicaTask<Pass>({
      dataSource,
      lockName: `test.single-replica.${db.name}`,
      intervalMs: 50,
      pass:
        pass ??
        (async () => {
          passes.push(name);
          return { leader: true, replica: name };
        }),
      notLeader: { leader: false, replica: name },
      onError: (error) => errors.push(error),
    });
    tasks.push(task);
    return task;
  }

  beforeEach(async () => {
    db = await createTestDatabase(testStackEnv().databaseAdminUrl, 'singlereplica');
    passes.length = 0;
    errors.length = 0;
  });

  afterEach(async () => {
    await Promise.all(tasks.splice(0).map((task) => task.stop()));
    await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
    await db.drop();
  });

  it('runs the work on one replica at a time, and another leads once the first stops', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const first = await Promise.all([a.tick(), b.tick()]);
    expect(first.filter((p) => p.leader)).toHaveLength(1);
    const leader = first.find((p) => p.leader)!.replica === 'a' ? a : b;
    const other = leader === a ? b : a;
    // The lock is kept between ticks: the same replica leads again.
    expect((await other.tick()).leader).toBe(false);
    expect((await leader.tick()).leader).toBe(true);

    await leader.stop();
    expect((await other.tick()).leader).toBe(true);
  });

  it('shares one pass between overlapping ticks, and its timer keeps passing until stopped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const task = await replica('slow', async () => {
      started += 1;
      await gate;
      return { leader: true, replica: 'slow' };
    });
    const [one, two] = [task.tick(), task.tick()];
    release();
    expect(await one).toBe(await two);
    expect(started).toBe(1);

    await task.stop();
    const running = await replica('timed');
    running.start();
    await waitFor('the timer to run passes', () => (passes.length >= 3 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    await running.stop();
    const after = passes.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(passes.length).toBe(after);
    expect(errors).toEqual([]);
  });
});
