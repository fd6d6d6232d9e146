import type { AuthorizationServiceHandle } from '../src/authorization-service';
import { waitFor } from '@tenantry/testing';
import { withTenant } from '@tenantry/db';
import { PolicyRepository } from '../src/persistence/policy-repository';
import { AuthorizationTestBed } from './support/authorization-test-bed';

describe('policy changes reach every replica', () => {
  let bed: AuthorizationTestBed;
  let second: AuthorizationServiceHandle;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    // A second replica on the same database, with the version poll off: only the event can tell it.
    second = await bed.startInstance({ policyPollMs: 3_600_000 });
    // Its fresh consumer group starts at the newest offset once joined; wait until it hears events.
    await waitFor(
      'the second replica to hear policy events',
      async () => {
        await bed.tenantWithEveryRole().catch(() => undefined);
        return second.cacheEventsHandled() > 0;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('a role change on one replica is seen by the other quickly, through the event', async () => {
    const t = await bed.tenantWithEveryRole();
    const viewer = bed.asUser(t.users.viewer);
    const ask = async (): Promise<boolean> =>
      (
        await bed.call(
          'post',
          '/v1/authz/check',
          t.tenantId,
          viewer,
          { permission: 'audit:read' },
          second,
        )
      ).body.allowed as boolean;
    expect(await ask()).toBe(false); // now cached on the second replica
    const loadsBefore = second.engine.stats.loads;

    const started = Date.now();
    const assigned = await bed.call(
      'put',
      `/v1/role-assignments/user/${t.users.viewer}/roles/admin`,
      t.tenantId,
      bed.asUser(t.ownerId),
    );
    expect(assigned.status).toBe(200);
    await waitFor(
      'the second replica to allow it',
      async () => ((await ask()) ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 20,
      },
    );
    const elapsed = Date.now() - started;
    console.log(`role change visible on the second replica after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(5000);
    expect(second.engine.stats.loads).toBeGreaterThan(loadsBefore);
    expect(second.engine.stats.pollInvalidations).toBe(0);
  });

  it('the version poll alone converges a replica when no event comes', async () => {
    const t = await bed.tenantWithEveryRole();
    // Let the setup's own policy events be published first: the new replica's consumer starts at
    // the newest offset, so no event can invalidate its cache below and only the poll remains.
    await waitFor('the setup events to be published', async () => {
      const [row] = await bed.service.dataSource.query(
        `SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL`,
      );
      return (row as { n: number }).n === 0;
    });
    const third = await bed.startInstance({ policyPollMs: 200 });
    const member = bed.asUser(t.users.member);
    const ask = async (): Promise<boolean> =>
      (
        await bed.call(
          'post',
          '/v1/authz/check',
          t.tenantId,
          member,
          { permission: 'roles:read' },
          third,
        )
      ).body.allowed as boolean;
    expect(await ask()).toBe(false);
    // A change that published no event (as if the event were lost): only the version moves.
    await withTenant(bed.service.dataSource, t.tenantId, async (tx) => {
      await new PolicyRepository().bumpVersion(tx);
      await tx.manager.query(
        `INSERT INTO role_assignments (tenant_id, subject_type, subject_id, role)
         VALUES ($1, 'user', $2, 'admin')`,
        [t.tenantId, t.users.member],
      );
    });
    await waitFor('the third replica to allow it', async () => ((await ask()) ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(third.engine.stats.pollInvalidations).toBeGreaterThan(0);
  });
});
