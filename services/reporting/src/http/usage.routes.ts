import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { reportRange } from '../domain/report-range';
import { usageReport } from '../domain/usage-report';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { asOfSchema, instant, iso, problemResponses } from './schemas';

const usageQuery = z
  .strictObject({
    from: instant,
    to: instant,
    granularity: z.enum(['hour', 'day']).default('day'),
    routeGroup: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/)
      .optional(),
  })
  .transform((q, ctx) => {
    const check = reportRange(new Date(q.from), new Date(q.to), q.granularity);
    if (!check.ok) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: check.reason });
      return z.NEVER;
    }
    return { range: check.range, routeGroup: q.routeGroup };
  });

const latency = z.object({
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
});
const figures = {
  calls: z.number(),
  serverErrors: z.number(),
  clientErrors: z.number(),
  byStatusClass: z.record(z.string(), z.number()),
  latencyMs: latency,
};

/** `GET /v1/reports/usage`: calls, errors and latency percentiles from pre-aggregated buckets. */
export function addUsageRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/reports/usage',
      summary:
        'API usage per hour or day (UTC): calls, errors, latency percentiles, route groups, active users',
      tags: ['reports'],
      permission: 'reports:read',
      query: usageQuery,
      responses: {
        200: {
          description:
            'The range widened to whole buckets; every bucket listed. Percentiles are estimated from log-spaced histograms (within 19%).',
          schema: z.object({
            asOf: asOfSchema,
            from: z.string(),
            to: z.string(),
            granularity: z.enum(['hour', 'day']),
            totals: z.object({ ...figures, activeUsers: z.number(), activeApiKeys: z.number() }),
            buckets: z.array(z.object({ start: z.string(), ...figures })),
            routeGroups: z.array(z.object({ routeGroup: z.string(), ...figures })),
            activeUsersByDay: z.array(
              z.object({ day: z.string(), users: z.number(), apiKeys: z.number() }),
            ),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const { range, routeGroup } = query;
      const body = await inTenant(routeDeps, async (tx) => {
        const [freshness, rows, actors] = [
          await deps.freshness.of(tx, 'usage'),
          await deps.usage.rows(tx, range, routeGroup),
          await deps.usage.activeActors(tx, range),
        ];
        const report = usageReport(range, rows);
        return {
          asOf: iso(freshness.asOf),
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          granularity: range.granularity,
          totals: { ...report.totals, activeUsers: actors.users, activeApiKeys: actors.apiKeys },
          buckets: report.buckets,
          routeGroups: report.routeGroups,
          activeUsersByDay: actors.byDay.map((d) => ({
            day: d.day.toISOString(),
            users: d.users,
            apiKeys: d.apiKeys,
          })),
        };
      });
      res.json(body);
    },
  );
}
