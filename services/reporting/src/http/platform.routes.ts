import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { forbidden } from '@tenantry/http';
import type { Actor } from '@tenantry/tenancy';
import { requireTenantContext } from '@tenantry/tenancy';
import { encodeCursor } from '../domain/page-cursor';
import { reportRange } from '../domain/report-range';
import type { RouteDeps } from './route-deps';
import { cursorSchema, instant, limitSchema, problemResponses } from './schemas';

/**
 * Object-level check for the operator's routes: operators hold no tenant role, so the gateway
 * lets them through only where a route asks for `authenticated` (as billing's operator routes).
 */
function requireOperator(): { actor: Actor; requestId: string } {
  const { actor, requestId } = requireTenantContext('an operator route');
  if (actor.type !== 'operator') throw forbidden('Only platform operators may do this.');
  return { actor, requestId };
}

/** The platform operator's cross-tenant figures; every read is recorded first. */
export function addPlatformRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { dataSource, deps } = routeDeps;
  const audited = async (action: string, parameters: unknown) => {
    const { actor, requestId } = requireOperator();
    await deps.platform.recordAccess(dataSource, { actor, requestId, action, parameters });
  };

  routes.add(
    {
      method: 'get',
      path: '/v1/reports/platform/tenants',
      summary: 'Every tenant: plan, status, active members, subscription (operators; audited)',
      tags: ['reports', 'platform'],
      permission: 'authenticated',
      query: z.strictObject({ limit: limitSchema, cursor: cursorSchema(1) }),
      responses: {
        200: {
          description: 'A page of tenants by id; `nextCursor` is null on the last page',
          schema: z.object({
            tenants: z.array(
              z.object({
                tenantId: z.string(),
                name: z.string().nullable(),
                plan: z.string().nullable(),
                status: z.string().nullable(),
                activeMembers: z.number(),
                subscriptionStatus: z.string().nullable(),
                planCode: z.string().nullable(),
                updatedAt: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const after = query.cursor?.[0];
      await audited('platform.tenants.read', { limit: query.limit, after: after ?? null });
      const rows = await deps.platform.tenants(dataSource, {
        limit: query.limit + 1,
        ...(typeof after === 'string' ? { afterTenantId: after } : {}),
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        tenants: page.map((t) => ({ ...t, updatedAt: t.updatedAt.toISOString() })),
        nextCursor: rows.length > query.limit && last ? encodeCursor([last.tenantId]) : null,
      });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/reports/platform/usage',
      summary:
        'API calls of all tenants per UTC day, and how many tenants called (operators; audited)',
      tags: ['reports', 'platform'],
      permission: 'authenticated',
      query: z.strictObject({ from: instant, to: instant }).transform((q, ctx) => {
        const check = reportRange(new Date(q.from), new Date(q.to), 'day');
        if (!check.ok) {
          ctx.addIssue({ code: 'custom', path: ['to'], message: check.reason });
          return z.NEVER;
        }
        return check.range;
      }),
      responses: {
        200: {
          description: 'Days with calls, oldest first, over the range widened to whole days',
          schema: z.object({
            from: z.string(),
            to: z.string(),
            days: z.array(
              z.object({
                day: z.string(),
                calls: z.number(),
                serverErrors: z.number(),
                tenants: z.number(),
              }),
            ),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query: range }, _req, res) => {
      await audited('platform.usage.read', {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
      });
      const days = await deps.platform.usageByDay(dataSource, range);
      res.json({
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        days: days.map((d) => ({ ...d, day: d.day.toISOString() })),
      });
    },
  );
}
