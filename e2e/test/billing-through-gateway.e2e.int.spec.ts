import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import type { ApiResponse } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { PASSWORD, inviteUser, signUpOwner } from '../support/tenant-users';
import type { TenantSession } from '../support/tenant-users';

interface Subscription {
  id: string;
  status: string;
  plan: { code: string; seatPriceMinor: number; includedApiCalls: number; currency: string };
  pendingPlanCode: string | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: string;
  currentPeriodEnd: string;
}

interface Usage {
  apiCalls: number;
  includedApiCalls: number;
  periodStart: string;
}

interface AuditEntry {
  action: string;
  actor: { type: string; id: string };
  requestId: string;
  source: string;
  after: { change?: string; planCode?: string; previousPlanCode?: string | null } | null;
}

describe('billing through the gateway (real identity, authorization, billing and gateway)', () => {
  const platform = new E2ePlatform({ billing: true });
  let api: string;

  beforeAll(async () => {
    await platform.start();
    api = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform.stop();
  });

  /** One count from billing's database, as its owner in the tenant's transaction (RLS applies). */
  async function billingCount(
    tenantId: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<number> {
    const client = new Client({ connectionString: platform.billingDb!.ownerUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      const result = await client.query<{ n: number }>(sql, params);
      await client.query('COMMIT');
      return Number(result.rows[0]?.n ?? 0);
    } finally {
      await client.end();
    }
  }

  /** Waits until billing has consumed the tenant's creation and answers through the gateway. */
  async function subscriptionOf(owner: TenantSession): Promise<ApiResponse<Subscription>> {
    return waitFor(
      'billing to open the subscription from identity.tenant.created',
      async () => {
        const response = await call<Subscription>(api, 'GET', '/v1/billing/subscription', {
          token: owner.accessToken,
        });
        return response.status === 200 ? response : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  async function auditedChanges(owner: TenantSession): Promise<AuditEntry[]> {
    const page = await call<{ entries: AuditEntry[] }>(
      api,
      'GET',
      '/v1/audit-log?action=billing.subscription.changed&limit=50',
      { token: owner.accessToken },
    );
    expect(page.status).toBe(200);
    return page.body.entries;
  }

  it('publishes billing’s operations in the gateway’s OpenAPI document, with their permissions', async () => {
    const document = await call<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(
      api,
      'GET',
      '/v1/openapi.json',
    );
    expect(document.status).toBe(200);
    const { paths } = document.body;
    expect(paths['/v1/billing/subscription']?.get?.['x-permission']).toBe(
      'billing.subscription:read',
    );
    expect(paths['/v1/billing/subscription/plan']?.put?.['x-permission']).toBe(
      'billing.subscription:manage',
    );
    expect(paths['/v1/billing/usage']?.get?.['x-permission']).toBe('billing.usage:read');
    expect(paths['/v1/billing/invoices/{invoiceId}']?.get?.['x-permission']).toBe(
      'billing.invoices:read',
    );
    // Operator-only: the gateway lets operators through on `authenticated`, billing checks them.
    expect(paths['/v1/billing/invoices/{invoiceId}/void']?.post?.['x-permission']).toBe(
      'authenticated',
    );
  });

  it('opens the free plan for a tenant signed up through the gateway', async () => {
    const owner = await signUpOwner(api);
    const subscription = await subscriptionOf(owner);
    expect(subscription.body).toMatchObject({
      status: 'active',
      plan: { code: 'free', seatPriceMinor: 0, includedApiCalls: 10_000, currency: 'USD' },
      pendingPlanCode: null,
      cancelAtPeriodEnd: false,
    });
    const start = new Date(subscription.body.currentPeriodStart);
    const end = new Date(subscription.body.currentPeriodEnd);
    expect(start.getTime()).toBeLessThanOrEqual(Date.now());
    expect(end.getTime()).toBeGreaterThan(Date.now());
    // A calendar month in UTC (docs/adr/0011).
    expect(start.toISOString()).toMatch(/-01T00:00:00\.000Z$/);
  });

  it('counts every API call the tenant makes through the gateway in its usage, once', async () => {
    // Sign-up and login are public: no tenant to charge, so no usage event.
    const email = `owner-${randomUUID()}@example.test`;
    const signup = await call(api, 'POST', '/v1/signup', {
      body: {
        tenantName: `Metered ${randomUUID().slice(0, 8)}`,
        email,
        password: PASSWORD,
        displayName: 'Owner',
      },
    });
    expect(signup.status).toBe(201);
    const tenantId = String(signup.body.tenantId);
    const login = await call(api, 'POST', '/v1/auth/token', {
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const token = String(login.body.accessToken);

    // No authenticated call before billing knows the tenant: a usage event that overtook the
    // tenant's creation may be refused, which would make the count below uncertain.
    await waitFor(
      'billing to open the subscription (its database)',
      async () =>
        (await billingCount(tenantId, 'SELECT count(*)::int AS n FROM subscriptions')) === 1,
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    // Every authenticated call the gateway answered without a server error is billable.
    let billable = 0;
    const tenantCall = async <T = Record<string, unknown>>(
      method: string,
      path: string,
    ): Promise<ApiResponse<T>> => {
      const response = await call<T>(api, method, path, { token });
      if (response.status < 500) billable += 1;
      return response;
    };

    await waitFor(
      'authorization to make the creator owner',
      async () =>
        (await tenantCall<{ roles?: string[] }>('GET', '/v1/me/permissions')).body.roles?.includes(
          'owner',
        ) === true,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    for (let i = 0; i < 3; i++)
      expect((await tenantCall('GET', '/v1/billing/plans')).status).toBe(200);
    expect((await tenantCall('GET', '/v1/me')).status).toBe(200);
    // A client error is the tenant's call too (only 5xx are not charged).
    expect((await tenantCall('GET', `/v1/billing/invoices/${randomUUID()}`)).status).toBe(404);
    expect(billable).toBeGreaterThanOrEqual(6);

    // Each read sees at most the calls before it (its own event comes after its response), and
    // eventually exactly those: none lost, none counted twice.
    const overCounted: { before: number; counted: number }[] = [];
    const usage = await waitFor(
      'the gateway’s usage events to be counted by billing',
      async () => {
        const before = billable;
        const response = await tenantCall<Usage>('GET', '/v1/billing/usage');
        if (response.status !== 200) return undefined;
        const counted = response.body.apiCalls;
        if (counted > before) overCounted.push({ before, counted });
        return counted === before ? response.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    expect(overCounted).toEqual([]);
    expect(usage.includedApiCalls).toBe(10_000);
  });

  it('upgrades once for an Idempotency-Key sent twice, and the audit log names the user', async () => {
    const owner = await signUpOwner(api);
    await subscriptionOf(owner);
    const key = randomUUID();
    const upgrade = (planCode: string, idempotencyKey = key) =>
      call<{ outcome: string; subscription: Subscription }>(
        api,
        'PUT',
        '/v1/billing/subscription/plan',
        {
          token: owner.accessToken,
          headers: { 'idempotency-key': idempotencyKey },
          body: { planCode },
        },
      );

    const first = await upgrade('team');
    expect(first.status).toBe(200);
    expect(first.body.outcome).toBe('upgraded');
    expect(first.body.subscription.plan.code).toBe('team');
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await upgrade('team');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // The same key for another request is refused, not replayed.
    expect((await upgrade('business')).status).toBe(422);

    const now = await call<Subscription>(api, 'GET', '/v1/billing/subscription', {
      token: owner.accessToken,
    });
    expect(now.body.plan.code).toBe('team');

    // A later change under a new key: its event follows the first on the tenant's subscription
    // key (one partition, in order), so once it is audited, a second event of the replay would
    // have been audited too.
    const later = await upgrade('business', randomUUID());
    expect(later.body.outcome).toBe('upgraded');
    const entries = await waitFor(
      'authorization to audit billing’s subscription changes',
      async () => {
        const found = await auditedChanges(owner);
        return found.some((e) => e.after?.planCode === 'business') ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Newest first: business, team (once), and the opening on the free plan.
    expect(entries.map((e) => [e.after?.change, e.after?.planCode])).toEqual([
      ['upgraded', 'business'],
      ['upgraded', 'team'],
      ['created', 'free'],
    ]);
    const team = entries[1]!;
    expect(team).toMatchObject({
      action: 'billing.subscription.changed',
      actor: { type: 'user', id: owner.userId },
      source: '/services/billing',
      after: { previousPlanCode: 'free' },
    });
    // The request that made the change, as the gateway named it.
    expect(team.requestId).toBe(first.headers.get('x-request-id'));
    // Billing wrote each change once (its outbox, which holds every tenant's rows), the replay none.
    expect(
      await billingCount(
        owner.tenantId,
        `SELECT count(*)::int AS n FROM event_outbox
          WHERE tenant_id = $1 AND event_type = 'billing.subscription.changed'`,
        [owner.tenantId],
      ),
    ).toBe(3);
  });

  it('checks billing’s permissions at the gateway by the caller’s role in the tenant', async () => {
    const owner = await signUpOwner(api);
    await subscriptionOf(owner);
    const [member, billingAdmin] = await Promise.all([
      inviteUser(api, owner, 'member'),
      inviteUser(api, owner, 'billing-admin'),
    ]);
    const get = (session: TenantSession, path: string) =>
      call(api, 'GET', path, { token: session.accessToken });

    const refused = await get(member, '/v1/billing/subscription');
    expect(refused.status).toBe(403);
    expect(String(refused.body.detail)).toContain('billing.subscription:read');
    expect((await get(member, '/v1/billing/usage')).status).toBe(403);
    expect(
      (
        await call(api, 'PUT', '/v1/billing/subscription/plan', {
          token: member.accessToken,
          body: { planCode: 'team' },
        })
      ).status,
    ).toBe(403);

    const read = await get(billingAdmin, '/v1/billing/subscription');
    expect(read.status).toBe(200);
    expect((read.body as unknown as Subscription).plan.code).toBe('free');
    expect((await get(billingAdmin, '/v1/billing/usage')).status).toBe(200);
    expect((await get(billingAdmin, '/v1/billing/invoices')).status).toBe(200);
    // Anyone signed in reads the plan catalogue.
    const plans = await get(member, '/v1/billing/plans');
    expect(plans.status).toBe(200);
    expect((plans.body as { plans: { code: string }[] }).plans.map((p) => p.code)).toEqual(
      expect.arrayContaining(['free', 'team', 'business']),
    );
  });

  it('lets a platform operator, and no tenant user, reach the operator-only invoice routes', async () => {
    const owner = await signUpOwner(api);
    await subscriptionOf(owner);
    const operatorEmail = `ops-${randomUUID()}@tenantry.test`;
    await platform.createOperator(operatorEmail, PASSWORD);
    const login = await call(api, 'POST', '/v1/operators/token', {
      body: { email: operatorEmail, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const operator = {
      token: String(login.body.accessToken),
      headers: { 'x-operator-tenant': owner.tenantId },
    };
    const invoice = randomUUID();

    // Through the gateway's check into billing, which looks for the invoice in that tenant.
    const voided = await call(api, 'POST', `/v1/billing/invoices/${invoice}/void`, {
      ...operator,
      body: { reason: 'duplicate charge' },
    });
    expect(voided.status).toBe(404);
    const credited = await call(api, 'POST', `/v1/billing/invoices/${invoice}/credit-notes`, {
      ...operator,
      body: { amountMinor: 100, reason: 'goodwill' },
    });
    expect(credited.status).toBe(404);

    // The tenant's owner holds every tenant permission, and still may not void.
    const byOwner = await call(api, 'POST', `/v1/billing/invoices/${invoice}/void`, {
      token: owner.accessToken,
      body: { reason: 'duplicate charge' },
    });
    expect(byOwner.status).toBe(403);
    expect(String(byOwner.body.detail)).toMatch(/operators/i);
  });
});
