import { randomUUID } from 'node:crypto';
import { ApiCallCompletedEvent, TenantDeletedEvent } from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import { bucketUpperBoundMs, latencyBucket } from '../src/domain/latency-histogram';
import type { ReportingServiceHandle } from '../src/reporting-service';
import { ReportingTestBed } from './support/reporting-test-bed';
import type { Scenario } from './support/tenant-scenario';
import { SHARED_ROUTES, SHARED_USERS, shuffled, tenantScenario } from './support/tenant-scenario';

const MARCH = 'from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z';
const REPORTS = [
  `/v1/reports/usage?${MARCH}&granularity=day`,
  `/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&granularity=hour`,
  '/v1/reports/members?status=all',
  '/v1/reports/members/history?limit=200',
  '/v1/reports/billing',
  '/v1/reports/activity?limit=200',
];

function exactPercentile(latencies: readonly number[], p: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] as number;
}

describe('read models through the inbox', () => {
  let bed: ReportingTestBed;

  beforeAll(async () => {
    bed = await new ReportingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  /** Events of the tenant recorded in the instance's inbox (each type has one consumer). */
  const inboxed = async (tenantId: string, service: ReportingServiceHandle = bed.service) =>
    (
      (await service.dataSource.query(
        `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1`,
        [tenantId],
      )) as { n: number }[]
    )[0]?.n ?? 0;

  const allApplied = (
    tenantId: string,
    scenario: Scenario,
    service: ReportingServiceHandle = bed.service,
  ) =>
    waitFor(
      `all ${scenario.events.length} events of ${tenantId} applied`,
      async () =>
        (await inboxed(tenantId, service)) === scenario.events.length ? true : undefined,
      { timeoutMs: 240_000 },
    );

  /** Every report of the tenant, with its id and the event ids taken out, for comparison. */
  async function reports(tenantId: string, service: ReportingServiceHandle = bed.service) {
    const bodies: unknown[] = [];
    for (const path of REPORTS) {
      const res = await bed.get(path, tenantId, undefined, service);
      expect(res.status).toBe(200);
      bodies.push(res.body);
    }
    return JSON.parse(
      JSON.stringify(bodies, (key, value: unknown) => (key === 'eventId' ? undefined : value))
        .split(tenantId)
        .join('<tenant>'),
    ) as unknown[];
  }

  describe('two tenants with the same people and routes', () => {
    const a = randomUUID();
    const b = randomUUID();
    const scenarioA = tenantScenario(a, { calls: 24, withCarol: true });
    const scenarioB = tenantScenario(b, { calls: 5 });

    beforeAll(async () => {
      // Interleaved, as they would be on the shared topics.
      const events = scenarioA.events.flatMap((event, i) => {
        const other = scenarioB.events[i];
        return other ? [event, other] : [event];
      });
      await bed.producer.publishAll(events);
      await allApplied(a, scenarioA);
      await allApplied(b, scenarioB);
      // A fresh group reads the shared topics' whole history first.
    }, 300_000);

    it('tenant A’s reports never include tenant B’s rows', async () => {
      const usageA = await bed.get(`/v1/reports/usage?${MARCH}`, a);
      const usageB = await bed.get(`/v1/reports/usage?${MARCH}`, b);
      expect(usageA.body.totals.calls).toBe(24);
      expect(usageB.body.totals.calls).toBe(5);
      expect(
        usageA.body.routeGroups.map((g: { routeGroup: string }) => g.routeGroup).sort(),
      ).toEqual(['billing', 'members']);
      const membersA = await bed.get('/v1/reports/members', a);
      const membersB = await bed.get('/v1/reports/members', b);
      expect(membersA.body.members.map((m: { userId: string }) => m.userId)).toEqual(
        scenarioA.expected.activeMembers,
      );
      expect(membersB.body.members.map((m: { email: string }) => m.email)).not.toContain(
        SHARED_USERS.carol.email,
      );
      expect(membersB.body.totals).toEqual({ active: 3, removed: 0 });
      for (const tenant of [a, b]) {
        const other = tenant === a ? b : a;
        for (const path of REPORTS) {
          const res = await bed.get(path, tenant);
          expect(JSON.stringify(res.body)).not.toContain(other);
        }
      }
      // Below the API too: tenant A's transaction sees none of B's rows, filter or not.
      const leaked = await bed.rows<{ n: number }>(
        a,
        `SELECT (SELECT count(*) FROM usage_hourly WHERE tenant_id = $1)
              + (SELECT count(*) FROM members WHERE tenant_id = $1)
              + (SELECT count(*) FROM activity WHERE tenant_id = $1) AS n`,
        [b],
      );
      expect(Number(leaked[0]?.n)).toBe(0);
    });

    it('usage percentiles come from the buckets, with asOf the newest call', async () => {
      const res = await bed.get(`/v1/reports/usage?${MARCH}&granularity=day`, a);
      const { totals } = res.body;
      const { expected } = scenarioA;
      expect(res.body.asOf).toBe(expected.newestUsageAt);
      expect(totals.serverErrors).toBe(expected.serverErrors);
      expect(totals.clientErrors).toBe(expected.clientErrors);
      expect(totals.byStatusClass['2xx']).toBe(
        expected.calls - expected.serverErrors - expected.clientErrors,
      );
      expect(totals.activeUsers).toBe(2);
      expect(totals.latencyMs.max).toBe(Math.max(...expected.latencies));
      const mean = expected.latencies.reduce((s, l) => s + l, 0) / expected.latencies.length;
      expect(totals.latencyMs.mean).toBeCloseTo(mean, 3);
      for (const [name, p] of [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const) {
        const exact = exactPercentile(expected.latencies, p);
        const bucket = latencyBucket(exact);
        expect(totals.latencyMs[name]).toBeGreaterThan(bucketUpperBoundMs(bucket - 1));
        expect(totals.latencyMs[name]).toBeLessThanOrEqual(bucketUpperBoundMs(bucket));
      }
      // The day series and the hour series add up to the same calls.
      const days = res.body.buckets as { start: string; calls: number }[];
      expect(days).toHaveLength(31);
      expect(days.reduce((s, d) => s + d.calls, 0)).toBe(expected.calls);
      const hours = await bed.get(
        '/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&granularity=hour',
        a,
      );
      expect(hours.body.buckets).toHaveLength(48);
      expect(hours.body.totals.calls).toBe(expected.calls);
      const filtered = await bed.get(`/v1/reports/usage?${MARCH}&routeGroup=members`, a);
      expect(filtered.body.totals.calls).toBe(
        expected.latencies.filter((_, i) => SHARED_ROUTES[i % 2] === '/v1/members').length,
      );
    });

    it('members, roles, billing and activity say what the events said, each with its asOf', async () => {
      const members = await bed.get('/v1/reports/members?status=all', a);
      expect(members.body.asOf).toBe(scenarioA.expected.newestMembersAt);
      const byId = Object.fromEntries(
        members.body.members.map((m: { userId: string }) => [m.userId, m]),
      );
      expect(byId[SHARED_USERS.alice.id]).toMatchObject({
        active: true,
        roles: ['admin'],
        email: SHARED_USERS.alice.email,
      });
      // Removed, then back with another role: a member again, joined at the second time.
      expect(byId[SHARED_USERS.bob.id]).toMatchObject({
        active: true,
        joinedRole: 'viewer',
        joinedAt: '2026-03-01T00:50:00.000Z',
        removedAt: null,
      });
      expect(byId[SHARED_USERS.owner.id]).toMatchObject({ joinedRole: 'owner' });
      const history = await bed.get('/v1/reports/members/history', a);
      expect(history.body.changes.map((c: { change: string }) => c.change)).toEqual([
        'membership.added',
        'membership.added',
        'membership.removed',
        'role.assigned',
        'membership.added',
        'membership.added',
        'membership.added',
      ]);
      const billing = await bed.get('/v1/reports/billing', a);
      expect(billing.body).toMatchObject({
        asOf: scenarioA.expected.newestBillingAt,
        subscription: { status: 'active', planCode: 'business', lastChange: 'upgraded' },
        invoices: { open: 0, overdue: 0, paid: 1, void: 1 },
        revenue: [
          {
            period: '2026-03',
            currency: 'USD',
            invoicedMinor: 5100,
            creditedMinor: 1200,
            netMinor: 3900,
            collectedMinor: 3900,
          },
        ],
      });
      const activity = await bed.get('/v1/reports/activity', a);
      expect(activity.body.activity.map((x: { action: string }) => x.action)).toEqual([
        'identity.membership.added',
        'billing.invoice.voided',
        'billing.credit-note.issued',
        'billing.invoice.paid',
        'billing.subscription.changed',
        'identity.api-key.created',
        'identity.membership.added',
        'identity.membership.removed',
        'authorization.role.assigned',
        'identity.membership.added',
        'identity.membership.added',
        'identity.tenant.created',
      ]);
      expect(activity.body.asOf).toBe(scenarioA.expected.newestMembersAt);
    });

    it('shows an operator every tenant’s figures, records each read, and refuses anyone else', async () => {
      const operator = { type: 'operator' as const, id: `op-${randomUUID()}` };
      const refused = await bed.get('/v1/reports/platform/tenants', a, {
        type: 'user',
        id: SHARED_USERS.owner.id,
      });
      expect(refused.status).toBe(403);
      const found: Record<string, { activeMembers: number; planCode: string | null }> = {};
      let cursor: string | null = null;
      do {
        const path: string = `/v1/reports/platform/tenants?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await bed.get(path, a, operator);
        expect(res.status).toBe(200);
        for (const t of res.body.tenants) found[t.tenantId] = t;
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(found[a]).toMatchObject({ activeMembers: 4, planCode: 'business', status: 'active' });
      expect(found[b]).toMatchObject({ activeMembers: 3, planCode: 'business' });
      const usage = await bed.get(`/v1/reports/platform/usage?${MARCH}`, a, operator);
      expect(usage.status).toBe(200);
      const days = usage.body.days as { day: string; calls: number; tenants: number }[];
      const total = days.reduce((sum, d) => sum + d.calls, 0);
      expect(total).toBeGreaterThanOrEqual(24 + 5);
      expect(
        days.find((d) => d.day === '2026-03-01T00:00:00.000Z')?.tenants,
      ).toBeGreaterThanOrEqual(2);
      const log = (await bed.service.dataSource.query(
        `SELECT action FROM operator_access_log WHERE actor_id = $1 ORDER BY id`,
        [operator.id],
      )) as { action: string }[];
      expect(log.map((r) => r.action)).toEqual([
        ...Array.from({ length: log.length - 1 }, () => 'platform.tenants.read'),
        'platform.usage.read',
      ]);
      await expect(
        bed.service.dataSource.query(`DELETE FROM operator_access_log WHERE actor_id = $1`, [
          operator.id,
        ]),
      ).rejects.toThrow(/permission denied|append-only/);
    });

    it('pages with opaque cursors until the last page', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const path: string = `/v1/reports/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await bed.get(path, a);
        expect(res.status).toBe(200);
        expect(res.body.members.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.members.map((m: { userId: string }) => m.userId));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(scenarioA.expected.activeMembers);
      expect(pages).toBe(2);
      const all = await bed.get('/v1/reports/activity?limit=200', a);
      const walked: string[] = [];
      cursor = null;
      do {
        const path: string = `/v1/reports/activity?limit=5${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await bed.get(path, a);
        walked.push(...res.body.activity.map((x: { eventId: string }) => x.eventId));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(walked).toEqual(all.body.activity.map((x: { eventId: string }) => x.eventId));
    });
  });

  describe('duplicated, reordered and replayed delivery', () => {
    const ordered = randomUUID();
    const reordered = randomUUID();
    const scenarioOrdered = tenantScenario(ordered, { calls: 30, withCarol: true });
    const scenarioReordered = tenantScenario(reordered, { calls: 30, withCarol: true });

    it('the same events twice and shuffled converge to the same reports as once in order', async () => {
      await bed.producer.publishAll(scenarioOrdered.events);
      const published = await bed.producer.publishAll(shuffled(scenarioReordered.events));
      await allApplied(ordered, scenarioOrdered);
      await allApplied(reordered, scenarioReordered);
      // Every event of the shuffled tenant delivered a second time, same ids.
      await bed.producer.redeliver(published.map((m) => m.id));
      const outcomes = bed.instances[0]?.outcomes ?? [];
      await waitFor(
        'every copy recognised as a duplicate',
        () =>
          outcomes.filter((o) => o.tenantId === reordered && o.outcome === 'duplicate').length >=
          published.length
            ? true
            : undefined,
        { timeoutMs: 240_000 },
      );
      expect(await reports(reordered)).toEqual(await reports(ordered));
      expect(await bed.applied(reordered)).toEqual(await bed.applied(ordered));
      const usage = await bed.get(`/v1/reports/usage?${MARCH}`, reordered);
      expect(usage.body.totals.calls).toBe(30);
    }, 300_000);

    it('a rebuild from the beginning of the topics equals the incremental read model', async () => {
      const rebuilt = await bed.startInstance();
      await allApplied(ordered, scenarioOrdered, rebuilt.service);
      await allApplied(reordered, scenarioReordered, rebuilt.service);
      const incremental = await reports(ordered);
      expect(await reports(ordered, rebuilt.service)).toEqual(incremental);
      expect(await reports(reordered, rebuilt.service)).toEqual(incremental);
    }, 400_000);
  });

  describe('refused and deleted tenants', () => {
    it('dead-letters an event whose payload names another tenant than its envelope', async () => {
      const tenantId = randomUUID();
      const outcomes = bed.instances[0]?.outcomes ?? [];
      await bed.producer.publish({
        definition: ApiCallCompletedEvent,
        tenantId,
        subject: 'x',
        data: {
          tenantId: randomUUID(),
          actorType: 'user',
          actorId: 'u-1',
          method: 'GET',
          route: '/v1/members',
          service: 'identity',
          status: 200,
          latencyMs: 1,
          requestId: 'r',
          completedAt: '2026-03-05T10:00:00Z',
        },
      });
      await waitFor(
        'the event in the DLQ',
        () =>
          outcomes.some((o) => o.tenantId === tenantId && o.outcome === 'dead_lettered')
            ? true
            : undefined,
        { timeoutMs: 120_000 },
      );
      const usage = await bed.get(`/v1/reports/usage?${MARCH}`, tenantId);
      expect(usage.body.totals.calls).toBe(0);
    });

    it('purges a deleted tenant and keeps late events out', async () => {
      const tenantId = randomUUID();
      const scenario = tenantScenario(tenantId, { calls: 3 });
      await bed.producer.publishAll(scenario.events);
      await allApplied(tenantId, scenario);
      await bed.producer.publish({
        definition: TenantDeletedEvent,
        tenantId,
        subject: tenantId,
        data: { tenantId, deletedAt: '2026-03-20T00:00:00Z' },
      });
      // The deletion and the late call travel on different topics to different consumers: wait
      // for the purge (its inbox row commits with it), or the call can be applied before it.
      await waitFor(
        'the deletion applied',
        async () => ((await inboxed(tenantId)) === scenario.events.length + 1 ? true : undefined),
        { timeoutMs: 60_000 },
      );
      // An event that happened after the purge is refused ('tenant deleted', to the DLQ), not
      // applied: only the deletion joins the inbox.
      const late = await bed.producer.publish(scenario.events.at(-1)!);
      const { outcomes } = bed.instances[0]!;
      await waitFor(
        'the late call dead-lettered',
        () =>
          outcomes.some((o) => o.tenantId === tenantId && o.outcome === 'dead_lettered')
            ? true
            : undefined,
        { timeoutMs: 120_000 },
      );
      expect(late.id).toBeDefined();
      expect(await inboxed(tenantId)).toBe(scenario.events.length + 1);
      const usage = await bed.get(`/v1/reports/usage?${MARCH}`, tenantId);
      expect(usage.body).toMatchObject({ asOf: null, totals: { calls: 0 } });
      const members = await bed.get('/v1/reports/members?status=all', tenantId);
      expect(members.body.members).toEqual([]);
    });
  });
});
