import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ReportReadyEvent } from '@tenantry/contracts';
import { signContextToken } from '@tenantry/tenancy';
import { waitFor } from '@tenantry/testing';
import { ReportingTestBed } from './support/reporting-test-bed';
import { tenantScenario } from './support/tenant-scenario';

const owner = { type: 'user' as const, id: 'u-owner' };

describe('report exports as jobs', () => {
  let bed: ReportingTestBed;
  const tenantId = randomUUID();
  const other = randomUUID();
  const scenario = tenantScenario(tenantId, { calls: 12, withCarol: true });

  beforeAll(async () => {
    bed = await new ReportingTestBed().setUp();
    await bed.producer.publishAll([
      ...scenario.events,
      ...tenantScenario(other, { calls: 2 }).events,
    ]);
    await waitFor(
      'both tenants applied',
      async () => {
        const rows = (await bed.service.dataSource.query(
          `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = ANY($1::text[])`,
          [[tenantId, other]],
        )) as { n: number }[];
        return rows[0]?.n ===
          scenario.events.length + tenantScenario(other, { calls: 2 }).events.length
          ? true
          : undefined;
      },
      { timeoutMs: 240_000 },
    );
  }, 300_000);

  afterAll(async () => {
    await bed?.tearDown();
  });

  async function send(
    method: 'post' | 'get',
    path: string,
    tenant: string,
    body?: object,
    headers: Record<string, string> = {},
  ) {
    const token = await signContextToken(
      { tenantId: tenant, actor: owner, requestId: `req-${randomUUID()}` },
      bed.keys.signingKey,
      { audience: 'reporting' },
    );
    const pending = request(bed.service.app)
      [method](path)
      .set('x-context-token', token)
      .set(headers);
    return body ? pending.send(body) : pending;
  }

  async function finished(exportId: string, tenant = tenantId) {
    return waitFor('the export to finish', async () => {
      const res = await send('get', `/v1/reports/exports/${exportId}`, tenant);
      return res.body.status === 'done' || res.body.status === 'failed' ? res : undefined;
    });
  }

  it('queues a job (202), builds the file, and hands out a link that works for this tenant only', async () => {
    const queued = await send('post', '/v1/reports/exports', tenantId, {
      report: 'members',
      format: 'csv',
    });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ status: 'queued', progress: 0, download: null });
    expect(queued.headers.location).toBe(`/v1/reports/exports/${queued.body.id}`);

    const done = await finished(queued.body.id);
    expect(done.body).toMatchObject({ status: 'done', progress: 100, rows: 4 });
    const { url } = done.body.download as { url: string };

    const file = await send('get', url, tenantId);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/text\/csv/);
    expect(file.headers['content-disposition']).toMatch(/attachment/);
    const lines = file.text.trim().split('\r\n');
    expect(lines[0]).toBe('user_id,email,display_name,roles,active,joined_at,removed_at');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(scenario.expected.activeMembers);

    // The same link in another tenant's context: refused; the export is not even visible there.
    expect((await send('get', url, other)).status).toBe(403);
    expect((await send('get', `/v1/reports/exports/${queued.body.id}`, other)).status).toBe(404);
    // A tampered link: refused.
    const tampered = url.replace(/expires=(\d+)/, (_m, n: string) => `expires=${Number(n) + 60}`);
    expect((await send('get', tampered, tenantId)).status).toBe(403);
    // Once it expires: gone, with its own problem type.
    const realNow = bed.now;
    bed.now = () => new Date(Date.now() + 301_000);
    try {
      const expired = await send('get', url, tenantId);
      expect(expired.status).toBe(410);
      expect(expired.body.type).toMatch(/link-expired/);
    } finally {
      bed.now = realNow;
    }

    const ready = (await bed.service.dataSource.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE tenant_id = $1 AND event_type = $2`,
      [tenantId, ReportReadyEvent.type],
    )) as { n: number }[];
    expect(ready[0]?.n).toBe(1);
  });

  it('exports usage as JSON with the same figures as the report', async () => {
    const range = 'from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z';
    const queued = await send('post', '/v1/reports/exports', tenantId, {
      report: 'usage',
      format: 'json',
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-03T00:00:00Z',
      granularity: 'day',
    });
    expect(queued.status).toBe(202);
    const done = await finished(queued.body.id);
    const file = await send('get', done.body.download.url, tenantId);
    expect(file.headers['content-type']).toMatch(/application\/json/);
    const report = await bed.get(`/v1/reports/usage?${range}`, tenantId);
    const exported = JSON.parse(file.text) as { asOf: string; rows: { calls: number }[] };
    expect(exported.asOf).toBe(report.body.asOf);
    expect(exported.rows.map((r) => r.calls)).toEqual(
      report.body.buckets.map((b: { calls: number }) => b.calls),
    );
  });

  it('refuses a bad export request with a 400 problem, and replays a keyed request', async () => {
    for (const body of [
      { report: 'usage' },
      { report: 'usage', from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      { report: 'members', from: '2026-03-01T00:00:00Z' },
      { report: 'everything' },
      { report: 'members', extra: true },
    ]) {
      const res = await send('post', '/v1/reports/exports', tenantId, body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const key = { 'idempotency-key': `k-${randomUUID()}` };
    const first = await send('post', '/v1/reports/exports', tenantId, { report: 'billing' }, key);
    const again = await send('post', '/v1/reports/exports', tenantId, { report: 'billing' }, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const done = await finished(first.body.id);
    const file = await send('get', done.body.download.url, tenantId);
    expect(file.text).toContain('2026-03,USD,5100,1200,3900,3900');
  });
});
