import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { encodeCursor } from '../domain/page-cursor';
import type { RouteDeps } from './route-deps';
import { inTenant } from './route-deps';
import { asOfSchema, cursorSchema, iso, limitSchema, problemResponses, timeAndId } from './schemas';

const memberSchema = z.object({
  userId: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  joinedRole: z.string().nullable(),
  roles: z.array(z.string()),
  active: z.boolean(),
  joinedAt: z.string().nullable(),
  removedAt: z.string().nullable(),
});

const changeSchema = z.object({
  eventId: z.string(),
  at: z.string(),
  change: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  role: z.string().nullable(),
  actor: z.object({ type: z.string(), id: z.string() }),
});

/** Members and roles now, and how they changed over time. */
export function addMembersRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  routes.add(
    {
      method: 'get',
      path: '/v1/reports/members',
      summary: 'Members with the roles they hold now, by user id, a page at a time',
      tags: ['reports'],
      permission: 'reports:read',
      query: z.strictObject({
        status: z.enum(['active', 'removed', 'all']).default('active'),
        limit: limitSchema,
        cursor: cursorSchema(1),
      }),
      responses: {
        200: {
          description: 'A page of members; `nextCursor` is null on the last page',
          schema: z.object({
            asOf: asOfSchema,
            totals: z.object({ active: z.number(), removed: z.number() }),
            members: z.array(memberSchema),
            nextCursor: z.string().nullable(),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const after = query.cursor?.[0];
      const body = await inTenant(routeDeps, async (tx) => {
        const freshness = await deps.freshness.of(tx, 'members');
        const totals = await deps.members.totals(tx);
        const rows = await deps.members.page(tx, {
          status: query.status,
          limit: query.limit + 1,
          ...(typeof after === 'string' ? { afterUserId: after } : {}),
        });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          asOf: iso(freshness.asOf),
          totals,
          members: page.map((m) => ({
            userId: m.userId,
            email: m.email,
            displayName: m.displayName,
            joinedRole: m.joinedRole,
            roles: m.roles,
            active: m.active,
            joinedAt: iso(m.joinedAt),
            removedAt: iso(m.removedAt),
          })),
          nextCursor: rows.length > query.limit && last ? encodeCursor([last.userId]) : null,
        };
      });
      res.json(body);
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/reports/members/history',
      summary: 'Membership and role changes, newest first, a page at a time',
      tags: ['reports'],
      permission: 'reports:read',
      query: z.strictObject({ limit: limitSchema, cursor: cursorSchema(2) }),
      responses: {
        200: {
          description: 'A page of changes; `nextCursor` is null on the last page',
          schema: z.object({
            asOf: asOfSchema,
            changes: z.array(changeSchema),
            nextCursor: z.string().nullable(),
          }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const before = timeAndId(query.cursor);
      const body = await inTenant(routeDeps, async (tx) => {
        const freshness = await deps.freshness.of(tx, 'members');
        const rows = await deps.members.history(tx, {
          limit: query.limit + 1,
          ...(before ? { before } : {}),
        });
        const page = rows.slice(0, query.limit);
        const last = page[page.length - 1];
        return {
          asOf: iso(freshness.asOf),
          changes: page.map((c) => ({
            eventId: c.eventId,
            at: c.at.toISOString(),
            change: c.change,
            subjectType: c.subjectType,
            subjectId: c.subjectId,
            role: c.role,
            actor: { type: c.actorType, id: c.actorId },
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
