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
    const res = await waitFor('the members to arrive', async () => {
      const r = await bed.get('/v1/reports/members', tenantId);
      return r.body.asOf === expected.newestMembersAt ? r : undefined;
    });
    expect(res.body.members.map((m: { userId: string }) => m.userId)).toEqual(
      expected.activeMembers,
    );
  });
});
