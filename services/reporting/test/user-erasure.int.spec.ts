import { randomUUID } from 'node:crypto';
import {
  MembershipAddedEvent,
  MembershipRemovedEvent,
  TenantCreatedEvent,
  UserDeletedEvent,
} from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import type { TestEvent } from './support/event-test-producer';
import { ReportingTestBed } from './support/reporting-test-bed';

const WAIT = { timeoutMs: 240_000 };

describe('identity.user.deleted erases the user’s personal data from every tenant', () => {
  let bed: ReportingTestBed;
  const tenants = [randomUUID(), randomUUID()];
  const erased = { id: `u-erased-${randomUUID()}`, email: `erased-${randomUUID()}@example.test` };
  const kept = { id: `u-kept-${randomUUID()}`, email: `kept-${randomUUID()}@example.test` };
  const owner = { type: 'user' as const, id: 'u-owner' };

  function added(tenantId: string, user: { id: string; email: string }, minute: number) {
    return {
      definition: MembershipAddedEvent,
      tenantId,
      subject: user.id,
      actor: owner,
      data: {
        tenantId,
        userId: user.id,
        email: user.email,
        displayName: `Name of ${user.id}`,
        role: 'member',
        invitationId: null,
        addedAt: new Date(Date.UTC(2026, 2, 1, 0, minute)).toISOString(),
      },
    } as TestEvent;
  }

  function history(tenantId: string): TestEvent[] {
    return [
      {
        definition: TenantCreatedEvent,
        tenantId,
        subject: tenantId,
        data: {
          tenantId,
          name: `Tenant ${tenantId.slice(0, 8)}`,
          slug: `t-${tenantId.slice(0, 8)}`,
          ownerUserId: owner.id,
          ownerEmail: 'owner@example.test',
          plan: 'team',
          createdAt: '2026-03-01T00:00:00.000Z',
        },
      } as TestEvent,
      added(tenantId, erased, 10),
      added(tenantId, kept, 20),
      {
        definition: MembershipRemovedEvent,
        tenantId,
        subject: erased.id,
        actor: owner,
        data: { tenantId, userId: erased.id, removedAt: '2026-03-01T00:30:00.000Z' },
      } as TestEvent,
    ];
  }

  interface Member {
    userId: string;
    email: string | null;
    displayName: string | null;
    active: boolean;
  }

  async function members(tenantId: string): Promise<Member[]> {
    const res = await bed.get('/v1/reports/members?status=all', tenantId);
    expect(res.status).toBe(200);
    return (res.body as { members: Member[] }).members;
  }

  const personalRows = async (tenantId: string, email: string) =>
    (
      await bed.rows<{ n: number }>(
        tenantId,
        `SELECT ((SELECT count(*) FROM membership_events WHERE email = $1 OR display_name LIKE $2)
              + (SELECT count(*) FROM members WHERE email = $1 OR display_name LIKE $2))::int AS n`,
        [email, `%${email.split('@')[0] ?? email}%`],
      )
    )[0]?.n;

  beforeAll(async () => {
    bed = await new ReportingTestBed().setUp();
    await bed.producer.publishAll(tenants.flatMap(history));
    for (const tenantId of tenants) {
      await waitFor(
        `members of ${tenantId} applied`,
        async () => ((await bed.applied(tenantId)).members === 4 ? true : undefined),
        WAIT,
      );
    }
  }, 300_000);

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('keeps ids, roles, times and counts, drops emails and names, and holds for late facts', async () => {
    const before = await members(tenants[0] as string);
    expect(before.find((m) => m.userId === erased.id)?.email).toBe(erased.email);

    // Identity erased the account when some third tenant (its last one) was deleted.
    const lastTenant = randomUUID();
    await bed.producer.publish({
      definition: UserDeletedEvent,
      tenantId: lastTenant,
      subject: erased.id,
      data: { userId: erased.id, tenantId: lastTenant, deletedAt: new Date().toISOString() },
    });
    for (const tenantId of tenants) {
      await waitFor(
        `${erased.id} erased in ${tenantId}`,
        async () => {
          const m = (await members(tenantId)).find((x) => x.userId === erased.id);
          return m && m.email === null && m.displayName === null ? m : undefined;
        },
        WAIT,
      );
      const after = await members(tenantId);
      // The member is still counted (removed), with its times; the other member is untouched.
      expect(after.map((m) => [m.userId, m.active]).sort()).toEqual(
        [
          [owner.id, true],
          [erased.id, false],
          [kept.id, true],
        ].sort(),
      );
      expect(after.find((m) => m.userId === kept.id)?.email).toBe(kept.email);
      expect(await personalRows(tenantId, erased.email)).toBe(0);
      const changes = await bed.get('/v1/reports/members/history', tenantId);
      expect(
        (changes.body as { changes: { subjectId: string }[] }).changes.filter(
          (c) => c.subjectId === erased.id,
        ),
      ).toHaveLength(2);
    }

    // A fact about the user that arrives after the erasure (late, or replayed by a rebuild)
    // stores no personal data either.
    const late = tenants[1] as string;
    await bed.producer.publish(added(late, erased, 40));
    const m = await waitFor(
      'the late membership applied',
      async () => (await members(late)).find((x) => x.userId === erased.id && x.active),
      WAIT,
    );
    expect(m).toMatchObject({ email: null, displayName: null });
    expect(await personalRows(late, erased.email)).toBe(0);
  }, 300_000);
});
