import type { ApiCallCompleted } from '@tenantry/contracts';
import {
  ApiCallCompletedEvent,
  ApiKeyCreatedEvent,
  CreditNoteIssuedEvent,
  InvoiceIssuedEvent,
  InvoicePaidEvent,
  InvoiceVoidedEvent,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  RoleAssignedEvent,
  SubscriptionChangedEvent,
  TenantCreatedEvent,
} from '@tenantry/contracts';
import type { Actor } from '@tenantry/tenancy';
import type { TestEvent } from './event-test-producer';

const BASE = Date.parse('2026-03-01T00:00:00Z');
const at = (minutes: number): string => new Date(BASE + minutes * 60_000).toISOString();

/**
 * The same people and routes in every tenant (users are global, routes are the platform's), so
 * a report that leaked across tenants could not be told apart by name.
 */
export const SHARED_USERS = {
  owner: { id: 'u-owner', email: 'owner@example.test' },
  alice: { id: 'u-alice', email: 'alice@example.test' },
  bob: { id: 'u-bob', email: 'bob@example.test' },
  carol: { id: 'u-carol', email: 'carol@example.test' },
} as const;
export const SHARED_ROUTES = ['/v1/members', '/v1/billing/invoices/:invoiceId'] as const;

export interface ScenarioOptions {
  readonly calls: number;
  /** Add carol as a member too. */
  readonly withCarol?: boolean;
}

export interface Scenario {
  readonly events: TestEvent[];
  /** What the reports must say, computed from the events, not from the service. */
  readonly expected: {
    readonly calls: number;
    readonly serverErrors: number;
    readonly clientErrors: number;
    readonly latencies: number[];
    readonly activeMembers: string[];
    readonly newestUsageAt: string;
    readonly newestMembersAt: string;
    readonly newestBillingAt: string;
  };
}

/** One tenant's history over March 2026: members and roles, subscription, invoices, usage. */
export function tenantScenario(tenantId: string, options: ScenarioOptions): Scenario {
  const owner: Actor = { type: 'user', id: SHARED_USERS.owner.id };
  const system: Actor = { type: 'service', id: 'test-producer' };
  const e = <T>(
    definition: TestEvent<T>['definition'],
    subject: string,
    data: T,
    actor: Actor = system,
  ): TestEvent => ({ definition, tenantId, subject, data, actor }) as TestEvent;
  const membership = (user: { id: string; email: string }, role: string, minutes: number) =>
    e(
      MembershipAddedEvent,
      user.id,
      {
        tenantId,
        userId: user.id,
        email: user.email,
        displayName: user.id,
        role,
        invitationId: null,
        addedAt: at(minutes),
      },
      owner,
    );
  const subscriptionId = `sub-${tenantId}`;
  const subscription = (
    change: 'created' | 'upgraded',
    status: 'trialing' | 'active',
    planCode: string,
    minutes: number,
    actor: Actor,
  ) =>
    e(
      SubscriptionChangedEvent,
      subscriptionId,
      {
        tenantId,
        subscriptionId,
        change,
        status,
        planCode,
        planVersion: 1,
        previousPlanCode: change === 'created' ? null : 'team',
        pendingPlanCode: null,
        cancelAtPeriodEnd: false,
        currentPeriodStart: '2026-03-01T00:00:00.000Z',
        currentPeriodEnd: '2026-04-01T00:00:00.000Z',
        changedAt: at(minutes),
      },
      actor,
    );
  const invoice = (n: number, total: number, minutes: number) =>
    e(InvoiceIssuedEvent, `inv-${n}-${tenantId}`, {
      tenantId,
      invoiceId: `inv-${n}-${tenantId}`,
      number: `INV-00000${n}`,
      currency: 'USD',
      periodStart: '2026-03-01T00:00:00.000Z',
      periodEnd: '2026-04-01T00:00:00.000Z',
      lines: [],
      subtotalMinor: total,
      totalMinor: total,
      issuedAt: at(minutes),
      dueAt: at(minutes + 14 * 24 * 60),
      final: false,
    });

  const events: TestEvent[] = [
    e(TenantCreatedEvent, tenantId, {
      tenantId,
      name: `Tenant ${tenantId.slice(0, 8)}`,
      slug: `t-${tenantId.slice(0, 8)}`,
      ownerUserId: SHARED_USERS.owner.id,
      ownerEmail: SHARED_USERS.owner.email,
      plan: 'team',
      createdAt: at(0),
    }),
    subscription('created', 'trialing', 'team', 0, system),
    membership(SHARED_USERS.alice, 'member', 10),
    membership(SHARED_USERS.bob, 'member', 20),
    e(
      RoleAssignedEvent,
      SHARED_USERS.alice.id,
      {
        tenantId,
        subjectType: 'user',
        subjectId: SHARED_USERS.alice.id,
        role: 'admin',
        assignedAt: at(30),
      },
      owner,
    ),
    e(
      MembershipRemovedEvent,
      SHARED_USERS.bob.id,
      { tenantId, userId: SHARED_USERS.bob.id, removedAt: at(40) },
      owner,
    ),
    // Bob comes back: the newest fact about him makes him a member again, whatever the order.
    membership(SHARED_USERS.bob, 'viewer', 50),
    e(
      ApiKeyCreatedEvent,
      'key-1',
      {
        apiKeyId: 'key-1',
        tenantId,
        name: 'ci',
        prefix: 'tk_ci',
        role: 'member',
        expiresAt: null,
        createdAt: at(60),
      },
      owner,
    ),
    subscription('upgraded', 'active', 'business', 70, owner),
    invoice(1, 3900, 80),
    e(
      InvoicePaidEvent,
      `inv-1-${tenantId}`,
      {
        tenantId,
        invoiceId: `inv-1-${tenantId}`,
        number: 'INV-000001',
        currency: 'USD',
        amountMinor: 3900,
        method: 'manual',
        reference: 'wire-1',
        paidAt: at(90),
      },
      owner,
    ),
    invoice(2, 1200, 100),
    e(
      CreditNoteIssuedEvent,
      `cn-1-${tenantId}`,
      {
        tenantId,
        creditNoteId: `cn-1-${tenantId}`,
        number: 'CN-000001',
        invoiceId: `inv-2-${tenantId}`,
        invoiceNumber: 'INV-000002',
        currency: 'USD',
        amountMinor: 1200,
        reason: 'Void: mistake',
        issuedAt: at(110),
      },
      { type: 'operator', id: 'op-1' },
    ),
    e(
      InvoiceVoidedEvent,
      `inv-2-${tenantId}`,
      {
        tenantId,
        invoiceId: `inv-2-${tenantId}`,
        number: 'INV-000002',
        currency: 'USD',
        reason: 'mistake',
        creditNoteId: `cn-1-${tenantId}`,
        creditNoteNumber: 'CN-000001',
        creditedMinor: 1200,
        voidedAt: at(111),
      },
      { type: 'operator', id: 'op-1' },
    ),
  ];
  if (options.withCarol) events.push(membership(SHARED_USERS.carol, 'member', 120));

  const latencies: number[] = [];
  let serverErrors = 0;
  let clientErrors = 0;
  let newestUsage = 0;
  const actors = [SHARED_USERS.alice.id, SHARED_USERS.bob.id];
  for (let i = 0; i < options.calls; i++) {
    const status = i % 10 === 9 ? 500 : i % 5 === 3 ? 404 : 200;
    if (status >= 500) serverErrors++;
    else if (status >= 400) clientErrors++;
    // A spread of latencies over three hours of one day and one of the next.
    const latencyMs = 2 + ((i * 37) % 400) + (i % 7 === 0 ? 900 : 0);
    latencies.push(latencyMs);
    const minutes = (i % 4 === 3 ? 24 * 60 : 0) + 9 * 60 + (i % 3) * 60 + (i % 50);
    newestUsage = Math.max(newestUsage, minutes);
    const data: ApiCallCompleted = {
      tenantId,
      actorType: 'user',
      actorId: actors[i % actors.length] as string,
      method: 'GET',
      route: SHARED_ROUTES[i % SHARED_ROUTES.length] as string,
      service: 'identity',
      status,
      latencyMs,
      requestId: `req-${tenantId}-${i}`,
      completedAt: at(minutes),
    };
    events.push(e(ApiCallCompletedEvent, data.requestId, data, owner));
  }
  return {
    events,
    expected: {
      calls: options.calls,
      serverErrors,
      clientErrors,
      latencies,
      activeMembers: [
        SHARED_USERS.alice.id,
        SHARED_USERS.bob.id,
        ...(options.withCarol ? [SHARED_USERS.carol.id] : []),
        SHARED_USERS.owner.id,
      ].sort(),
      newestUsageAt: at(newestUsage),
      newestMembersAt: at(options.withCarol ? 120 : 50),
      newestBillingAt: at(111),
    },
  };
}

/** A deterministic shuffle (the same every run, so a failure can be replayed). */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
