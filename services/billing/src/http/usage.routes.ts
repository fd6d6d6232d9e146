import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { BillingRefusedError } from '../application/billing-refused-error';
import { formatMoney, money, toSafeNumber } from '../domain/money';
import { overageAmount, overageCalls } from '../domain/usage-pricing';
import { peakSeatsInWindow } from '../domain/seat-count';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { problemResponses } from './schemas';

/** Usage so far in the current period. */
export function addUsageRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/billing/usage',
      summary: 'API calls and seats so far this period, and the overage they would cost',
      tags: ['billing'],
      permission: 'billing.usage:read',
      responses: {
        200: {
          description: 'Usage of the current period',
          schema: z.object({
            periodStart: z.string(),
            periodEnd: z.string(),
            apiCalls: z.number(),
            includedApiCalls: z.number(),
            overageCalls: z.number(),
            overageMinor: z.number(),
            overage: z.string(),
            seats: z.number(),
            currency: z.string(),
          }),
        },
        404: { description: 'No subscription' },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      const body = await inTenant(routeDeps, async (tx) => {
        const s = await deps.subscriptions.find(tx);
        if (!s) throw new BillingRefusedError('not-found', 'This tenant has no subscription.');
        const plan = await deps.plans.version(s.planCode, s.planVersion, tx.manager);
        if (!plan) throw new Error('subscription plan missing');
        const calls = await deps.usage.total(tx, s.currentPeriodStart);
        const now = deps.clock.now();
        const until = now < s.currentPeriodEnd ? now : s.currentPeriodEnd;
        const start = s.currentPeriodStart;
        const seats = peakSeatsInWindow(await deps.seats.window(tx, start, until), start, until);
        const overMinor = overageAmount(calls, plan.includedApiCalls, plan.overagePer1000Minor);
        return {
          periodStart: s.currentPeriodStart.toISOString(),
          periodEnd: s.currentPeriodEnd.toISOString(),
          apiCalls: toSafeNumber(calls),
          includedApiCalls: toSafeNumber(plan.includedApiCalls),
          overageCalls: toSafeNumber(overageCalls(calls, plan.includedApiCalls)),
          overageMinor: toSafeNumber(overMinor),
          overage: formatMoney(money(overMinor, plan.currency)),
          seats,
          currency: plan.currency,
        };
      });
      res.json(body);
    },
  );
}
