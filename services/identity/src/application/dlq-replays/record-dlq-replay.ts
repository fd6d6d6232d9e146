import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { withTenant } from '@tenantry/db';
import { HttpProblem } from '@tenantry/http';
import { isUuid } from '../../domain/uuid';
import { recordAudit } from '../../persistence/audit-trail';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { IdentityDeps } from '../identity-deps';
import { actInTenant, authorizeOperator } from '../platform-access';

export interface DlqReplayEntry {
  readonly entryId: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly tenantId?: string;
}

export interface DlqReplayRequest {
  /** The original topic the entries go back to (their DLQ is `<topic>.dlq`). */
  readonly topic: string;
  /** The operator's filter, recorded as given. */
  readonly filter: Record<string, unknown>;
  readonly entries: readonly DlqReplayEntry[];
}

export interface RecordedDlqReplay {
  /** The replay's id: the target id of every audit row it wrote, and what its replay marks carry. */
  readonly auditId: string;
  readonly operatorId: string;
  readonly recordedAt: string;
  readonly count: number;
  readonly tenants: { tenantId: string; count: number }[];
}

const unprocessable = (detail: string, extensions?: Record<string, unknown>) =>
  new HttpProblem({
    status: 422,
    title: 'Unprocessable content',
    slug: 'unprocessable',
    detail,
    extensions,
  });

/**
 * Records a dead-letter replay an operator is about to perform, before anything is re-produced
 * (the CLI replays only on a 201). Identity's audit log is a tenant table (a uuid tenant id, RLS
 * forced), so the replay is written as one `dlq.replay-started` row in each tenant whose entries
 * it re-produces, each inside that tenant (`withTenant`) with the operator as actor, all with the
 * replay's id as target. An entry without a tenant identity knows has nowhere to be audited and
 * is refused (422), as is the whole request then: nothing is recorded.
 */
export async function recordDlqReplay(
  deps: IdentityDeps,
  request: DlqReplayRequest,
  now = new Date(),
): Promise<RecordedDlqReplay> {
  const operator = await authorizeOperator(deps, 'platform.dlq:replay');

  const byTenant = new Map<string, DlqReplayEntry[]>();
  const tenantless: string[] = [];
  for (const entry of request.entries) {
    if (!entry.tenantId || !isUuid(entry.tenantId)) tenantless.push(entry.entryId);
    else byTenant.set(entry.tenantId, [...(byTenant.get(entry.tenantId) ?? []), entry]);
  }
  if (tenantless.length > 0) {
    throw unprocessable(
      `${tenantless.length} entr${tenantless.length === 1 ? 'y has' : 'ies have'} no tenant, so the replay could not be audited in any tenant; leave them out (e.g. --tenant).`,
      { entryIds: tenantless.slice(0, 20) },
    );
  }
  const tenantIds = [...byTenant.keys()].sort();
  // `tenants` is a global table (no RLS): which of these tenants identity knows.
  const known = new Set(
    (await deps.dataSource.manager.find(TenantEntity, { where: { id: In(tenantIds) } })).map(
      (t) => t.id,
    ),
  );
  const unknown = tenantIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw unprocessable(
      `The entries name tenants identity does not know (${unknown.slice(0, 5).join(', ')}), so the replay could not be audited in them.`,
      { tenantIds: unknown.slice(0, 20) },
    );
  }

  const auditId = randomUUID();
  const dlqTopic = `${request.topic}.dlq`;
  // One transaction per tenant (each sets its own tenant for RLS). Should a later one fail, the
  // earlier rows stay and the CLI performs nothing: the log may name a replay that did not run,
  // never a replay that ran unrecorded.
  for (const tenantId of tenantIds) {
    const entries = byTenant.get(tenantId) ?? [];
    await actInTenant(tenantId, () =>
      withTenant(deps.dataSource, tenantId, (tx) =>
        recordAudit(tx, {
          action: 'dlq.replay-started',
          targetType: 'dlq-replay',
          targetId: auditId,
          details: {
            topic: request.topic,
            dlqTopic,
            filter: request.filter,
            count: entries.length,
            totalCount: request.entries.length,
            tenantCount: tenantIds.length,
            entryIds: entries.map((e) => e.entryId),
            eventIds: entries.flatMap((e) => (e.eventId ? [e.eventId] : [])),
            eventTypes: [...new Set(entries.flatMap((e) => (e.eventType ? [e.eventType] : [])))],
          },
        }),
      ),
    );
  }
  deps.logger.info('dlq replay recorded', {
    audit_id: auditId,
    operator_id: operator.id,
    topic: request.topic,
    count: request.entries.length,
    tenants: tenantIds.length,
  });
  return {
    auditId,
    operatorId: operator.id,
    recordedAt: now.toISOString(),
    count: request.entries.length,
    tenants: tenantIds.map((tenantId) => ({
      tenantId,
      count: byTenant.get(tenantId)?.length ?? 0,
    })),
  };
}
