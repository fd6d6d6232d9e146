import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { encodeCursor } from '../domain/page-cursor';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { asOfSchema, cursorSchema, iso, limitSchema, problemResponses, timeAndId } from './schemas';

/** `GET /v1/reports/activity`: recent privileged acts, newest first. */
export function addActivityRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/reports/activity',
      summary: 'Recent privileged acts (members, roles, keys, billing), newest first',
      tags: ['reports'],
      permission: 'reports:read',
      query: z.strictObject({
        limit: limitSchema,
        cursor: cursorSchema(2),
        /** An event type prefix: `identity.`, `authorization.role.`, `billing.invoice.`... */
        type: z
          .string()
          .regex(/^[a-z][a-z0-9.-]{0,80}$/)
          .optional(),
      }),
      responses: {
        200: {
          description: 'A page of acts; `nextCursor` is null on the last page',
          schema: z.object({
            asOf: asOfSchema,
            activity: z.array(
              z.object({
                eventId: z.string(),
                at: z.string(),
                action: z.string(),
                actor: z.object({ type: z.string(), id: z.string() }),
                subject: z.string(),
                summary: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const before = timeAndId(query.cursor);
      const body = await inTenant(routeDeps, async (tx) => {
        const freshness = await deps.freshness.of(tx, 'activity');
        const rows = await deps.activity.page(tx, {
          limit: query.limit + 1,
          ...(before ? { before } : {}),
          ...(query.type ? { actionPrefix: query.type } : {}),
        });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          asOf: iso(freshness.asOf),
          activity: page.map((a) => ({
            eventId: a.eventId,
            at: a.at.toISOString(),
            action: a.action,
            actor: { type: a.actorType, id: a.actorId },
            subject: a.subject,
            summary: a.summary,
          })),
          nextCursor:
            rows.length > query.limit && last
              ? encodeCursor([last.at.toISOString(), last.eventId])
              : null,
        };
      });
      res.json(body);
    },
  );
}
