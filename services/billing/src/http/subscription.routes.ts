import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { notFound } from '@tenantry/http';
import { changePlan, setCancelAtPeriodEnd } from '../application/change-plan/change-plan';
import { BillingRefusedError } from '../application/billing-refused-error';
import { eventIdsFromKey } from '../application/event-ids';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { problemResponses, subscriptionSchema } from './schemas';
import { subscriptionView } from './views';

/** The tenant's subscription: see it, change the plan, cancel at the period end. */
export function addSubscriptionRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  const view = async (tx: Parameters<Parameters<typeof inTenant>[1]>[0]) => {
    const s = await deps.subscriptions.find(tx);
    if (!s) throw new BillingRefusedError('not-found', 'This tenant has no subscription.');
    const plan = await deps.plans.version(s.planCode, s.planVersion, tx.manager);
    if (!plan) throw new Error('subscription plan missing');
    return subscriptionView(s, plan);
  };

  routes.add(
    {
      method: 'get',
      path: '/v1/billing/subscription',
      summary: 'The tenant’s subscription and plan',
      tags: ['billing'],
      permission: 'billing.subscription:read',
      responses: {
        200: { description: 'The subscription', schema: subscriptionSchema },
        404: { description: 'No subscription (yet)' },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      res.json(await inTenant(routeDeps, view));
    },
  );

  routes.add(
    {
      method: 'put',
      path: '/v1/billing/subscription/plan',
      summary:
        'Change the plan: an upgrade applies at once (prorated), a downgrade at the period end',
      tags: ['billing'],
      permission: 'billing.subscription:manage',
      idempotency: 'optional',
      body: z.strictObject({ planCode: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/) }),
      responses: {
        200: {
          description: 'The subscription after the change',
          schema: z.object({ outcome: z.string(), subscription: subscriptionSchema }),
        },
        404: { description: 'No such plan' },
        409: { description: 'The subscription is canceled' },
        422: { description: 'The plan is in another currency' },
        ...problemResponses,
      },
    },
    async ({ body, idempotencyKey }, _req, res) => {
      const result = await inTenant(routeDeps, async (tx) => {
        const { outcome } = await changePlan(
          tx,
          deps,
          body.planCode,
          eventIdsFromKey(idempotencyKey),
        );
        return { outcome, subscription: await view(tx) };
      });
      res.json(result);
    },
  );

  for (const [path, cancel, summary] of [
    ['/v1/billing/subscription/cancel', true, 'Cancel at the end of the current period'],
    ['/v1/billing/subscription/resume', false, 'Take a scheduled cancellation back'],
  ] as const) {
    routes.add(
      {
        method: 'post',
        path,
        summary,
        tags: ['billing'],
        permission: 'billing.subscription:manage',
        idempotency: 'optional',
        responses: {
          200: { description: 'The subscription', schema: subscriptionSchema },
          404: { description: 'No subscription' },
          409: { description: 'Already canceled' },
          ...problemResponses,
        },
      },
      async ({ idempotencyKey }, _req, res) => {
        const result = await inTenant(routeDeps, async (tx) => {
          await setCancelAtPeriodEnd(tx, deps, cancel, eventIdsFromKey(idempotencyKey));
          return view(tx);
        });
        if (!result) throw notFound();
        res.json(result);
      },
    );
  }
}
