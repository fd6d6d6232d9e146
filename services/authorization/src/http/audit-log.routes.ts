import { z } from 'zod';
import { ACTOR_TYPES } from '@tenantry/tenancy';
import type { ApiRoutes } from '@tenantry/http';
import { withCurrentTenant } from '@tenantry/db';
import { decodeAuditCursor, encodeAuditCursor } from './audit-log-cursor';
import { addGuardedRoute } from './guarded-route';
import type { RouteDeps } from './route-deps';
import { problemResponses } from './schemas';

const short = z.string().min(1).max(300);

const entrySchema = z.object({
  id: z.string(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  actor: z.object({ type: z.string(), id: z.string() }),
  action: z.string(),
  target: z.string(),
  requestId: z.string(),
  source: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});

/** The tenant's audit log, newest first, with keyset (cursor) pagination. */
export function addAuditLogRoutes(
  routes: ApiRoutes,
  { engine, dataSource, audit }: RouteDeps,
): void {
  addGuardedRoute(
    routes,
    engine,
    {
      method: 'get',
      path: '/v1/audit-log',
      summary: 'Privileged operations in this tenant, newest first',
      tags: ['audit'],
      permission: 'audit:read',
      query: z.strictObject({
        action: short.optional(),
        actorType: z.enum(ACTOR_TYPES as ['user', 'api_key', 'service', 'operator']).optional(),
        actorId: short.optional(),
        target: short.optional(),
        from: z.iso.datetime({ offset: true }).optional(),
        to: z.iso.datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(100).optional(),
      }),
      responses: {
        200: {
          description: 'One page; `nextCursor` is null on the last',
          schema: z.object({ entries: z.array(entrySchema), nextCursor: z.string().nullable() }),
        },
        ...problemResponses,
      },
    },
    async ({ query }, _req, res) => {
      const afterId = query.cursor ? decodeAuditCursor(query.cursor) : undefined;
      const filter = {
        action: query.action,
        actorType: query.actorType,
        actorId: query.actorId,
        target: query.target,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
      };
      // One more than asked, to know whether another page follows.
      const rows = await withCurrentTenant(dataSource, (tx) =>
        audit.page(tx, filter, query.limit + 1, afterId),
      );
      const entries = rows.slice(0, query.limit);
      const last = entries[entries.length - 1];
      res.setHeader('cache-control', 'no-store');
      res.json({
        entries,
        nextCursor: rows.length > query.limit && last ? encodeAuditCursor(last.id) : null,
      });
    },
  );
}
