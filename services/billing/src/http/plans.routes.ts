import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { badRequest } from '@tenantry/http';
import { currencyExponent } from '../domain/money';
import type { RouteDeps } from './route-deps';
import { requireOperator } from './route-deps';
import { planSchema, problemResponses } from './schemas';
import { planView } from './views';

/** The plan catalogue: anyone signed in reads it; operators add versions. */
export function addPlanRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/billing/plans',
      summary: 'The current version of every active plan',
      tags: ['billing'],
      permission: 'authenticated',
      responses: {
        200: { description: 'Plans', schema: z.object({ plans: z.array(planSchema) }) },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      res.json({ plans: (await deps.plans.listCurrent()).map(planView) });
    },
  );

  const minor = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
  routes.add(
    {
      method: 'post',
      path: '/v1/billing/plans',
      summary:
        'Publish a new version of a plan (operators); subscribers keep theirs until they change plan',
      tags: ['billing'],
      permission: 'authenticated',
      idempotency: 'optional',
      body: z.strictObject({
        code: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/),
        name: z.string().trim().min(1).max(100),
        currency: z.string().regex(/^[A-Z]{3}$/),
        seatPriceMinor: minor,
        includedApiCalls: minor,
        overagePer1000Minor: minor,
        trialDays: z.number().int().min(0).max(365).default(0),
      }),
      responses: {
        201: { description: 'The new version', schema: planSchema },
        ...problemResponses,
      },
    },
    async ({ body }, _req, res) => {
      requireOperator();
      try {
        currencyExponent(body.currency);
      } catch {
        throw badRequest('Unknown currency.');
      }
      const plan = await deps.plans.addVersion({
        code: body.code,
        name: body.name,
        currency: body.currency,
        seatPriceMinor: BigInt(body.seatPriceMinor),
        includedApiCalls: BigInt(body.includedApiCalls),
        overagePer1000Minor: BigInt(body.overagePer1000Minor),
        trialDays: body.trialDays,
      });
      res.status(201).json(planView(plan));
    },
  );
}
