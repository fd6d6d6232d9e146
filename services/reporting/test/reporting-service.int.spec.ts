import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { waitFor } from '@tenantry/testing';
import { ReportingTestBed } from './support/reporting-test-bed';
import { tenantScenario } from './support/tenant-scenario';

describe('reporting service', () => {
  let bed: ReportingTestBed;

  beforeAll(async () => {
    bed = await new ReportingTestBed().setUp();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('is live and ready, serves its OpenAPI document, and refuses requests without a signed context', async () => {
    expect((await request(bed.service.app).get('/healthz')).status).toBe(200);
    await waitFor('readiness', async () =>
      (await request(bed.service.app).get('/readyz')).status === 200 ? true : undefined,
    );
    const doc = await request(bed.service.app).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/reports/usage',
        '/v1/reports/members',
        '/v1/reports/members/history',
        '/v1/reports/billing',
        '/v1/reports/activity',
      ]),
    );
    const unsigned = await request(bed.service.app).get('/v1/reports/members');
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('answers an unknown tenant with empty reports and a null asOf', async () => {
    const res = await bed.get('/v1/reports/members', randomUUID());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      asOf: null,
      totals: { active: 0, removed: 0 },
      members: [],
      nextCursor: null,
    });
  });

  it('applies a tenant’s events to its members report', async () => {
    const tenantId = randomUUID();
    const { events, expected } = tenantScenario(tenantId, { calls: 3 });
    await bed.producer.publishAll(events);
    // Not until asOf is the newest time: asOf is a high-water mark, and an older event on
    // another partition may still be on its way. The inbox says when every event is in.
    await waitFor(
      'every event applied',
      async () =>
        (
          (await bed.service.dataSource.query(
            `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1`,
            [tenantId],
          )) as { n: number }[]
        )[0]?.n === events.length
          ? true
          : undefined,
      { timeoutMs: 240_000 },
    );
    const res = await bed.get('/v1/reports/members', tenantId);
    expect(res.body.asOf).toBe(expected.newestMembersAt);
    expect(res.body.members.map((m: { userId: string }) => m.userId)).toEqual(
      expected.activeMembers,
    );
    // A fresh group reads the shared topics' whole history first.
  }, 300_000);

  it.each([
    ['from after to', '/v1/reports/usage?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
    ['an empty range', '/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
    [
      'more than 31 days of hours',
      '/v1/reports/usage?from=2026-01-01T00:00:00Z&to=2026-02-02T00:00:00Z&granularity=hour',
      'to',
    ],
    [
      'more than 400 days of days',
      '/v1/reports/usage?from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
      'to',
    ],
    [
      'a date that is not an instant',
      '/v1/reports/usage?from=yesterday&to=2026-03-01T00:00:00Z',
      'from',
    ],
    ['no range at all', '/v1/reports/usage', 'from'],
    [
      'an unknown granularity',
      '/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&granularity=week',
      'granularity',
    ],
    [
      'an unknown parameter',
      '/v1/reports/usage?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&tenant=other',
      'tenant',
    ],
    ['a cursor it did not give out', '/v1/reports/members?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['a garbled cursor', '/v1/reports/activity?cursor=%3C%3E', 'cursor'],
    ['a limit of 0', '/v1/reports/activity?limit=0', 'limit'],
    ['a limit of 1000', '/v1/reports/members/history?limit=1000', 'limit'],
  ])('answers %s with a 400 problem naming the parameter', async (_name, path, field) => {
    const res = await bed.get(path, randomUUID());
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, type: expect.stringContaining('validation') });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  });

  it('widens a range to whole buckets and says so', async () => {
    const res = await bed.get(
      '/v1/reports/usage?from=2026-03-01T10:15:00Z&to=2026-03-01T12:00:01%2B00:00&granularity=hour',
      randomUUID(),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      asOf: null,
      from: '2026-03-01T10:00:00.000Z',
      to: '2026-03-01T13:00:00.000Z',
      granularity: 'hour',
    });
    expect(res.body.buckets).toHaveLength(3);
  });
});
