import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { PeriodCloseRequestedJob, periodCloseIdempotencyKey } from '@tenantry/contracts';
import { idempotentEventId } from '@tenantry/events';
import { waitFor } from '@tenantry/testing';
import { BillingTestBed } from './support/billing-test-bed';

const operator = { type: 'operator' as const, id: randomUUID() };

describe('period close, invoices and their lifecycle', () => {
  let bed: BillingTestBed;

  beforeAll(async () => {
    bed = await new BillingTestBed().setUp();
    // A second replica: its own consumer groups, so both really run every job they see.
    await bed.startInstance({ consumerGroupPrefix: `${bed.groupPrefix}-b` });
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  const invoices = (tenantId: string) =>
    bed.rows<{ id: string; number: string; total_minor: string }>(
      tenantId,
      `SELECT id, number, total_minor::text FROM invoices WHERE status <> 'draft' ORDER BY sequence`,
    );

  const tickAll = () => Promise.all(bed.instances.map((i) => i.scheduler.tick()));

  async function closeMarch(tenantId: string): Promise<{ id: string; number: string }> {
    bed.clock.set('2026-04-01T00:00:05Z');
    const [a, b] = await Promise.all(bed.instances.map((i) => i.scheduler.tick()));
    expect([a?.leader, b?.leader].filter(Boolean)).toHaveLength(1);
    await waitFor('the March invoice', async () =>
      (await invoices(tenantId)).length > 0 ? true : undefined,
    );
    return (await invoices(tenantId))[0] as { id: string; number: string };
  }

  it('upgrade mid-period: one invoice, one number, with an exact proration credit, however often the job runs', async () => {
    const { tenantId, owner } = await bed.tenant('free', 2);
    bed.clock.set('2026-03-11T00:00:00Z');
    const up = await bed.call('put', '/v1/billing/subscription/plan', tenantId, owner, {
      planCode: 'business',
    });
    expect(up.status).toBe(200);
    expect(up.body.outcome).toBe('upgraded');
    const invoice = await closeMarch(tenantId);
    // The same job again, and a second job with the same idempotency key, by an operator.
    const [job] = await bed.outbox(tenantId, PeriodCloseRequestedJob.type);
    await bed.producer.publish(
      tenantId,
      PeriodCloseRequestedJob,
      'again',
      {
        tenantId,
        subscriptionId: 'x',
        periodStart: '2026-03-01T00:00:00.000Z',
        periodEnd: '2026-04-01T00:00:00.000Z',
        requestedByType: 'operator',
        requestedById: operator.id,
        attempt: 2,
        idempotencyKey: periodCloseIdempotencyKey(tenantId, '2026-04-01T00:00:00.000Z'),
        requestedAt: new Date().toISOString(),
      },
      operator,
    );
    expect(job).toBeDefined();
    await waitFor('both replicas to handle both jobs', async () =>
      (
        await bed.service.dataSource.query(
          `SELECT count(*)::int AS n FROM event_inbox WHERE tenant_id = $1 AND event_type = $2`,
          [tenantId, PeriodCloseRequestedJob.type],
        )
      )[0].n === 4
        ? true
        : undefined,
    );
    const all = await invoices(tenantId);
    expect(all.map((i) => i.number)).toEqual(['INV-000001']);
    expect(invoice.number).toBe('INV-000001');
    const view = await bed.call('get', `/v1/billing/invoices/${invoice.id}`, tenantId, owner);
    expect(view.status).toBe(200);
    const kinds = view.body.lines.map((l: { kind: string; amountMinor: number }) => [
      l.kind,
      l.amountMinor,
    ]);
    // 3 seats on Business (3900) for March, less (3900 - 0) * 3 * 10/31 days spent on Free.
    expect(kinds).toEqual([
      ['seats', 11700],
      ['proration-credit', -3774],
    ]);
    expect(view.body.totalMinor).toBe(11700 - 3774);
    const html = await bed.call('get', `/v1/billing/invoices/${invoice.id}/html`, tenantId, owner);
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).toContain('INV-000001');
    expect(html.text).toContain('79.26 USD');
  });

  it('late usage goes on the next invoice as its own line, counted once', async () => {
    bed.clock.set('2026-03-20T00:00:00Z');
    const { tenantId, owner } = await bed.tenant('free');
    await bed.producer.apiCall(tenantId, new Date('2026-03-20T00:00:00Z'));
    await waitFor('the call', async () =>
      (await bed.count(tenantId, `SELECT count(*)::int AS n FROM usage_ledger`)) === 1
        ? true
        : undefined,
    );
    await closeMarch(tenantId);
    // A March call arriving after March was invoiced.
    const late = await bed.producer.apiCall(tenantId, new Date('2026-03-31T23:59:00Z'));
    await waitFor('the late call', async () =>
      (await bed.count(
        tenantId,
        `SELECT count(*)::int AS n FROM usage_ledger WHERE event_id = $1`,
        [late.id],
      )) === 1
        ? true
        : undefined,
    );
    bed.clock.set('2026-05-01T00:00:05Z');
    await tickAll();
    await waitFor('the April invoice', async () =>
      (await invoices(tenantId)).length === 2 ? true : undefined,
    );
    const april = (await invoices(tenantId))[1] as { id: string; number: string };
    expect(april.number).toBe('INV-000002');
    const view = await bed.call('get', `/v1/billing/invoices/${april.id}`, tenantId, owner);
    const lateLines = view.body.lines.filter((l: { kind: string }) => l.kind === 'late-usage');
    expect(lateLines).toHaveLength(1);
    expect(lateLines[0].quantity).toBe(1);
    expect(lateLines[0].description).toMatch(/Late usage for 2026-03 \(after INV-000001\)/);
    expect(
      await bed.count(
        tenantId,
        `SELECT count(*)::int AS n FROM usage_ledger WHERE invoice_id IS NULL`,
      ),
    ).toBe(0);
  });

  it('tenant A can neither read nor pay tenant B’s invoice; pay, overdue, void with a credit note', async () => {
    const a = await bed.tenant('team', 1);
    const b = await bed.tenant('team', 1);
    const invoiceA = await closeMarch(a.tenantId);
    const total = Number((await invoices(a.tenantId))[0]?.total_minor);
    for (const path of [
      `/v1/billing/invoices/${invoiceA.id}`,
      `/v1/billing/invoices/${invoiceA.id}/html`,
    ]) {
      expect((await bed.call('get', path, b.tenantId, b.owner)).status).toBe(404);
    }
    const foreignPay = await bed.call(
      'post',
      `/v1/billing/invoices/${invoiceA.id}/payments`,
      b.tenantId,
      b.owner,
      {
        amountMinor: total,
        reference: 'wire-1',
      },
    );
    expect(foreignPay.status).toBe(404);
    expect(
      (await bed.call('get', `/v1/billing/invoices/${invoiceA.id}`, a.tenantId, a.owner)).body
        .status,
    ).toBe('issued');

    // Past due: 14 days of terms, then the scheduler notices.
    bed.clock.set('2026-04-16T00:00:00Z');
    await tickAll();
    const sub = await bed.call('get', '/v1/billing/subscription', a.tenantId, a.owner);
    expect(sub.body.status).toBe('past_due');
    expect(await bed.outbox(a.tenantId, 'billing.invoice.overdue')).toHaveLength(1);

    const wrong = await bed.call(
      'post',
      `/v1/billing/invoices/${invoiceA.id}/payments`,
      a.tenantId,
      a.owner,
      {
        amountMinor: total - 1,
        reference: 'wire-1',
      },
    );
    expect(wrong.status).toBe(422);
    const paid = await bed.call(
      'post',
      `/v1/billing/invoices/${invoiceA.id}/payments`,
      a.tenantId,
      a.owner,
      {
        amountMinor: total,
        reference: 'wire-1',
      },
    );
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe('paid');
    expect(
      (await bed.call('get', '/v1/billing/subscription', a.tenantId, a.owner)).body.status,
    ).toBe('active');
    const [paidEvent] = await bed.outbox(a.tenantId, 'billing.invoice.paid');
    expect(paidEvent?.headers.ce_actorid).toBe(a.owner.id);

    const invoiceB = (await invoices(b.tenantId))[0] as { id: string };
    const byUser = await bed.call(
      'post',
      `/v1/billing/invoices/${invoiceB.id}/void`,
      b.tenantId,
      b.owner,
      {
        reason: 'billed by mistake',
      },
    );
    expect(byUser.status).toBe(403);
    const voided = await bed.call(
      'post',
      `/v1/billing/invoices/${invoiceB.id}/void`,
      b.tenantId,
      operator,
      {
        reason: 'billed by mistake',
      },
    );
    expect(voided.status).toBe(200);
    expect(voided.body.status).toBe('void');
    expect(voided.body.creditNotes[0].number).toBe('CN-000001');
    const [voidEvent] = await bed.outbox(b.tenantId, 'billing.invoice.voided');
    expect(voidEvent?.headers.ce_actortype).toBe('operator');
  });

  it('concurrent plan changes of one tenant serialise to a consistent state', async () => {
    bed.clock.set('2026-03-15T00:00:00Z');
    const { tenantId, owner } = await bed.tenant('free', 1);
    const plans = ['team', 'business', 'free', 'team', 'business', 'team'];
    const results = await Promise.all(
      plans.map((planCode, i) =>
        bed.call(
          'put',
          '/v1/billing/subscription/plan',
          tenantId,
          owner,
          { planCode },
          bed.instances[i % 2],
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(plans.map(() => 200));
    const changed = results.filter((r) => r.body.outcome !== 'unchanged').length;
    const events = await bed.outbox(tenantId, 'billing.subscription.changed');
    // One `created`, then one event per change that did something.
    expect(events).toHaveLength(1 + changed);
    const final = (await bed.call('get', '/v1/billing/subscription', tenantId, owner)).body;
    const upgrades = results.filter((r) => r.body.outcome === 'upgraded');
    const credits = await bed.count(tenantId, `SELECT count(*)::int AS n FROM pending_items`);
    expect(credits).toBe(upgrades.length);
    // Each response saw the state the previous change left: the last one to commit wins.
    const last = results.find(
      (r) =>
        r.body.subscription.plan.code === final.plan.code &&
        r.body.subscription.pendingPlanCode === final.pendingPlanCode,
    );
    expect(last).toBeDefined();
  });

  it('a plan change re-run under its Idempotency-Key after a lost response changes nothing (derived event id)', async () => {
    bed.clock.set('2026-03-15T00:00:00Z');
    const { tenantId, owner } = await bed.tenant('team', 1);
    const key = `upgrade-${randomUUID()}`;
    const upgrade = (): Promise<Response> =>
      bed.call(
        'put',
        '/v1/billing/subscription/plan',
        tenantId,
        owner,
        { planCode: 'business' },
        bed.service,
        { 'Idempotency-Key': key },
      );
    const first = await upgrade();
    expect(first.status).toBe(200);
    expect(first.body.outcome).toBe('upgraded');
    const derived = idempotentEventId(
      { idempotencyKey: key, eventType: 'billing.subscription.changed' },
      { tenantId, actor: owner },
    );
    expect((await bed.outbox(tenantId, 'billing.subscription.changed')).map((e) => e.id)).toContain(
      derived,
    );
    // Later, without a key: a downgrade scheduled for the period end.
    const downgrade = await bed.call('put', '/v1/billing/subscription/plan', tenantId, owner, {
      planCode: 'team',
    });
    expect(downgrade.body.outcome).toBe('downgrade-scheduled');
    const eventsBefore = await bed.outbox(tenantId, 'billing.subscription.changed');

    // The first request's process died after its commit, before the key recorded the response:
    // the key is still running and its lease has run out, so a retry takes it over.
    await bed.rows(
      tenantId,
      `UPDATE idempotency_keys SET state = 'running', response_status = NULL,
         response_headers = NULL, response_body = NULL, completed_at = NULL,
         locked_until = now() - interval '1 second'
       WHERE idempotency_key = $1`,
      [key],
    );
    expect(
      await bed.count(
        tenantId,
        `SELECT count(*)::int AS n FROM idempotency_keys
          WHERE idempotency_key = $1 AND state = 'running' AND locked_until < now()`,
        [key],
      ),
    ).toBe(1);
    // Run again, the upgrade would withdraw the later downgrade; its event id is the first
    // run's, so the re-run rolls back whole and says why.
    const retried = await upgrade();
    expect(retried.status).toBe(409);
    expect(retried.body.detail).toMatch(/already applied/);
    const after = (await bed.call('get', '/v1/billing/subscription', tenantId, owner)).body;
    expect(after.plan.code).toBe('business');
    expect(after.pendingPlanCode).toBe('team');
    expect(await bed.outbox(tenantId, 'billing.subscription.changed')).toEqual(eventsBefore);
  });

  it('tenant deleted: a final invoice is issued, then its billing data is purged', async () => {
    bed.clock.set('2026-03-20T00:00:00Z');
    const { tenantId, owner } = await bed.tenant('team', 1);
    // A keyed request leaves its stored response (which may hold personal data) behind.
    const keyed = await bed.call(
      'post',
      '/v1/billing/subscription/cancel',
      tenantId,
      owner,
      undefined,
      bed.service,
      { 'Idempotency-Key': `cancel-${randomUUID()}` },
    );
    expect(keyed.status).toBe(200);
    expect(await bed.count(tenantId, `SELECT count(*)::int AS n FROM idempotency_keys`)).toBe(1);
    await bed.producer.apiCall(tenantId, new Date('2026-03-19T00:00:00Z'));
    await waitFor('the call', async () =>
      (await bed.count(tenantId, `SELECT count(*)::int AS n FROM usage_ledger`)) === 1
        ? true
        : undefined,
    );
    await bed.producer.tenantDeleted(tenantId, new Date('2026-03-20T00:00:00Z'));
    await waitFor('the tombstone', async () =>
      (await bed.count(tenantId, `SELECT count(*)::int AS n FROM tenant_tombstones`)) === 1
        ? true
        : undefined,
    );
    const issued = await bed.outbox(tenantId, 'billing.invoice.issued');
    expect(issued).toHaveLength(1);
    expect(await bed.outbox(tenantId, 'billing.tenant.purged')).toHaveLength(1);
    for (const table of [
      'subscriptions',
      'invoices',
      'invoice_lines',
      'usage_ledger',
      'seat_events',
      'usage_aggregates',
      'idempotency_keys',
    ]) {
      expect(await bed.count(tenantId, `SELECT count(*)::int AS n FROM ${table}`)).toBe(0);
    }
    // A late membership event does not bring anything back.
    await bed.producer.membershipAdded(tenantId, 'late-user', new Date('2026-03-21T00:00:00Z'));
    const marker = await bed.tenant();
    expect(marker.tenantId).toBeDefined();
    expect(await bed.count(tenantId, `SELECT count(*)::int AS n FROM seat_events`)).toBe(0);
  });
});
