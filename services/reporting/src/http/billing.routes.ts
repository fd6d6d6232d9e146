import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { asOfSchema, iso, problemResponses } from './schemas';

/** Minor units as a JSON number; refused rather than rounded past 2^53. */
function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} is beyond a safe JSON number`);
  }
  return Number(value);
}

/** `GET /v1/reports/billing`: subscription, invoice counts, revenue per month and currency. */
export function addBillingRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/reports/billing',
      summary: 'Subscription, invoices by state, and revenue per UTC month and currency',
      tags: ['reports'],
      permission: 'reports:read',
      query: z.strictObject({}),
      responses: {
        200: {
          description: 'Amounts in integer minor units of their currency',
          schema: z.object({
            asOf: asOfSchema,
            subscription: z
              .object({
                id: z.string(),
                status: z.string(),
                planCode: z.string(),
                planVersion: z.number(),
                pendingPlanCode: z.string().nullable(),
                cancelAtPeriodEnd: z.boolean(),
                currentPeriodStart: z.string(),
                currentPeriodEnd: z.string(),
                lastChange: z.string(),
                changedAt: z.string(),
              })
              .nullable(),
            invoices: z.object({
              open: z.number(),
              overdue: z.number(),
              paid: z.number(),
              void: z.number(),
            }),
            revenue: z.array(
              z.object({
                period: z.string(),
                currency: z.string(),
                invoicedMinor: z.number(),
                creditedMinor: z.number(),
                netMinor: z.number(),
                collectedMinor: z.number(),
              }),
            ),
          }),
        },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      const body = await inTenant(routeDeps, async (tx) => {
        const freshness = await deps.freshness.of(tx, 'billing');
        const s = await deps.billing.subscription(tx);
        const invoices = await deps.billing.invoiceCounts(tx);
        const revenue = await deps.billing.revenue(tx);
        return {
          asOf: iso(freshness.asOf),
          subscription: s
            ? {
                id: s.subscriptionId,
                status: s.status,
                planCode: s.planCode,
                planVersion: s.planVersion,
                pendingPlanCode: s.pendingPlanCode,
                cancelAtPeriodEnd: s.cancelAtPeriodEnd,
                currentPeriodStart: s.currentPeriodStart.toISOString(),
                currentPeriodEnd: s.currentPeriodEnd.toISOString(),
                lastChange: s.lastChange,
                changedAt: s.changedAt.toISOString(),
              }
            : null,
          invoices,
          revenue: revenue.map((r) => ({
            period: r.period,
            currency: r.currency,
            invoicedMinor: safeNumber(r.invoicedMinor),
            creditedMinor: safeNumber(r.creditedMinor),
            netMinor: safeNumber(r.invoicedMinor - r.creditedMinor),
            collectedMinor: safeNumber(r.collectedMinor),
          })),
        };
      });
      res.json(body);
    },
  );
}
