import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { withTenant } from '@tenantry/db';
import { badRequest, notFound } from '@tenantry/http';
import type { IdentityDeps } from '../application/identity-deps';
import { recordDlqReplay } from '../application/dlq-replays/record-dlq-replay';
import { authorizeOperator } from '../application/platform-access';
import { changeTenantStatus } from '../application/tenant-lifecycle/change-tenant-status';
import { cancelTenantDeletion } from '../application/tenant-lifecycle/cancel-tenant-deletion';
import type { OffboardingState } from '../application/tenant-lifecycle/offboarding-state';
import { offboardingStateOf } from '../application/tenant-lifecycle/offboarding-state';
import { requestTenantDeletion } from '../application/tenant-lifecycle/request-tenant-deletion';
import { TENANT_STATUSES } from '../domain/tenant-lifecycle';
import { TenantEntity } from '../persistence/entities/tenant.entity';
import { offboardingView, problem, tenantStatusSchema } from './response-schemas';

const tenantParams = z.strictObject({ tenantId: z.uuid() });

/** The most entries one replay record takes: the CLI records (and replays) in chunks of 100. */
export const DLQ_REPLAY_MAX_ENTRIES = 500;

const headerText = z.string().min(1).max(200);
const dlqReplayBody = z.strictObject({
  topic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name')
    .describe('The original topic the entries go back to (their DLQ is `<topic>.dlq`)'),
  filter: z
    .strictObject({
      eventIds: z.array(headerText).max(100).optional(),
      tenantIds: z.array(headerText).max(100).optional(),
      eventTypes: z.array(headerText).max(100).optional(),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
      includeReplayed: z.boolean().optional(),
    })
    .describe('The filter the operator replays with, recorded as given'),
  entries: z
    .array(
      z.strictObject({
        entryId: z.string().min(1).max(300),
        eventId: headerText.optional(),
        eventType: headerText.optional(),
        tenantId: headerText.optional(),
      }),
    )
    .min(1)
    .max(DLQ_REPLAY_MAX_ENTRIES)
    .describe('The entries about to be re-produced (as `tenantry dlq list` shows them)'),
});

const recordedReplayView = z.object({
  auditId: z.uuid(),
  operatorId: z.uuid(),
  recordedAt: z.string(),
  count: z.number().int(),
  tenants: z.array(z.object({ tenantId: z.uuid(), count: z.number().int() })),
});

const tenantView = z.object({
  tenantId: z.string(),
  status: z.string(),
  name: z.string(),
  slug: z.string(),
  plan: z.string(),
  createdAt: z.string(),
  statusChangedAt: z.string(),
  statusReason: z.string().nullable(),
});

const tenantDetailView = tenantView.extend({ offboarding: offboardingView.nullable() });

function offboardingOf(state: OffboardingState): z.infer<typeof offboardingView> | null {
  return state.deletionRequestedAt || state.purgeStartedAt || state.status === 'deleted'
    ? state
    : null;
}

function viewOf(tenant: TenantEntity): z.infer<typeof tenantView> {
  return {
    tenantId: tenant.id,
    status: tenant.status,
    name: tenant.name,
    slug: tenant.slug,
    plan: tenant.plan,
    createdAt: tenant.createdAt.toISOString(),
    statusChangedAt: tenant.statusChangedAt.toISOString(),
    statusReason: tenant.statusReason,
  };
}

/**
 * Keyset cursor: the last tenant's id, opaque to clients. The page after it is compared with
 * that row's own (created_at, id), read in the query, so no timestamp is rounded through
 * JavaScript's milliseconds.
 */
function encodeCursor(tenant: TenantEntity): string {
  return Buffer.from(tenant.id, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!z.uuid().safeParse(id).success) throw badRequest('The cursor is not one this API gave out.');
  return id;
}

/** What platform operators do: explicit, permission-checked, audited inside the tenant. */
export function platformRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/v1/platform/tenants',
      summary: 'Every tenant, oldest first, optionally by status (operators; keyset pages)',
      tags: ['platform'],
      permission: 'platform.tenants:read',
      query: z.strictObject({
        status: z.enum(TENANT_STATUSES).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        after: z.string().max(200).optional(),
      }),
      responses: {
        200: {
          description: 'A page of tenants; `next` is the cursor of the following page, if any',
          schema: z.object({ tenants: z.array(tenantView), next: z.string().nullable() }),
        },
        400: problem('A bad filter, limit or cursor'),
        403: problem('Not an operator with this permission'),
      },
    },
    async ({ query }, _req, res) => {
      await authorizeOperator(deps, 'platform.tenants:read');
      const after = query.after === undefined ? undefined : decodeCursor(query.after);
      const builder = deps.dataSource.manager
        .createQueryBuilder(TenantEntity, 't')
        .orderBy('t.created_at', 'ASC')
        .addOrderBy('t.id', 'ASC')
        .limit(query.limit + 1);
      if (query.status) builder.andWhere('t.status = :status', { status: query.status });
      if (after) {
        builder.andWhere(
          '(t.created_at, t.id) > (SELECT c.created_at, c.id FROM tenants c WHERE c.id = :after)',
          { after },
        );
      }
      const rows = await builder.getMany();
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      res.json({
        tenants: page.map(viewOf),
        next: rows.length > query.limit && last ? encodeCursor(last) : null,
      });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/platform/tenants/:tenantId',
      summary: 'A tenant as the platform sees it, with its offboarding state (operators)',
      tags: ['platform'],
      permission: 'platform.tenants:read',
      params: tenantParams,
      responses: {
        200: { description: 'The tenant', schema: tenantDetailView },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      await authorizeOperator(deps, 'platform.tenants:read');
      const tenant = await deps.dataSource.manager.findOneBy(TenantEntity, { id: params.tenantId });
      if (!tenant) throw notFound('No such tenant.');
      // The confirmations are tenant rows (row-level security): read inside the tenant.
      const state = await withTenant(deps.dataSource, tenant.id, (tx) =>
        offboardingStateOf(tx, tenant),
      );
      res.json({ ...viewOf(tenant), offboarding: offboardingOf(state) });
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/tenants/:tenantId/suspend',
      summary: 'Suspend a tenant: its tokens and keys are refused with 403 until resumed',
      tags: ['platform'],
      permission: 'platform.tenants:suspend',
      params: tenantParams,
      body: z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }),
      responses: {
        200: { description: 'Suspended', schema: tenantStatusSchema },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
        409: problem('The tenant is being deleted or deleted'),
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await changeTenantStatus(deps, params.tenantId, 'suspended', body.reason ?? null));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/tenants/:tenantId/resume',
      summary: 'Resume a suspended tenant',
      tags: ['platform'],
      permission: 'platform.tenants:resume',
      params: tenantParams,
      responses: {
        200: { description: 'Active again', schema: tenantStatusSchema },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
        409: problem('The tenant is being deleted or deleted'),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await changeTenantStatus(deps, params.tenantId, 'active', null));
    },
  );

  routes.add(
    {
      method: 'delete',
      path: '/v1/platform/tenants/:tenantId',
      summary:
        'Delete a tenant: refused like a suspended one at once, purged by every service after the grace period (docs/adr/0016)',
      tags: ['platform'],
      permission: 'platform.tenants:delete',
      params: tenantParams,
      responses: {
        200: {
          description: 'Deletion requested (or already under way): where it stands',
          schema: offboardingView,
        },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await requestTenantDeletion(deps, params.tenantId));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/tenants/:tenantId/cancel-deletion',
      summary: 'Cancel a deletion in its grace period: the tenant gets its previous status back',
      tags: ['platform'],
      permission: 'platform.tenants:delete',
      params: tenantParams,
      responses: {
        200: { description: 'Canceled; the tenant as it is now', schema: offboardingView },
        403: problem('Not an operator with this permission'),
        404: problem('No such tenant'),
        409: problem('The tenant is not being deleted, or its purge has started'),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await cancelTenantDeletion(deps, params.tenantId));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/dlq-replays',
      summary:
        'Record a dead-letter replay before it is performed: one audit row (dlq.replay-started) in each tenant whose entries it re-produces, the operator as actor; the CLI replays only after a 201',
      tags: ['platform'],
      permission: 'platform.dlq:replay',
      body: dlqReplayBody,
      responses: {
        201: {
          description:
            'Recorded: `auditId` is the target id of every audit row and what the replay marks carry',
          schema: recordedReplayView,
        },
        400: problem('A malformed topic, filter or entry list'),
        403: problem('Not an operator with this permission'),
        422: problem(
          'An entry without a tenant, or of a tenant identity does not know: nowhere to audit it (nothing recorded)',
        ),
      },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(await recordDlqReplay(deps, body));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/platform/signing-keys/rotate',
      summary: 'Add a new token signing key; the current one retires when it activates',
      tags: ['platform'],
      permission: 'platform.signing-keys:rotate',
      responses: {
        201: { description: 'The new key id', schema: z.object({ kid: z.string() }) },
        403: problem('Not an operator with this permission'),
      },
    },
    async (_input, _req, res) => {
      const operator = await authorizeOperator(deps, 'platform.signing-keys:rotate');
      const kid = await deps.signingKeys.rotate(deps.config.signingKeyPublishLeadSeconds);
      deps.logger.info('signing key rotated', { kid, operator_id: operator.id });
      res.status(201).json({ kid });
    },
  );
}
