import type { TenantTransaction } from '@tenantry/db';
import { AuditEntryEntity } from './entities/audit-entry.entity';
import { returnedRows } from './policy-repository';

export interface NewAuditEntry {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly actorType: string;
  readonly actorId: string;
  readonly action: string;
  readonly target: string;
  readonly requestId: string;
  readonly source: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditEntryView {
  readonly id: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly actor: { readonly type: string; readonly id: string };
  readonly action: string;
  readonly target: string;
  readonly requestId: string;
  readonly source: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditLogFilter {
  readonly action?: string;
  readonly actorId?: string;
  readonly actorType?: string;
  readonly target?: string;
  readonly from?: Date;
  readonly to?: Date;
}

/** The tenant's append-only audit log: insert and read, nothing else. */
export class AuditLogRepository {
  /** Idempotent by event id (a redelivered event records nothing twice). */
  async append(tx: TenantTransaction, entry: NewAuditEntry): Promise<boolean> {
    const rows = returnedRows(
      await tx.manager.query(
        `INSERT INTO audit_log (tenant_id, event_id, occurred_at, actor_type, actor_id, action,
         target, request_id, source, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)
       ON CONFLICT (event_id) DO NOTHING RETURNING id`,
        [
          tx.tenantId,
          entry.eventId,
          entry.occurredAt,
          entry.actorType,
          entry.actorId,
          entry.action,
          entry.target,
          entry.requestId,
          entry.source,
          entry.before === undefined ? null : JSON.stringify(entry.before),
          entry.after === undefined ? null : JSON.stringify(entry.after),
        ],
      ),
    );
    return rows.length > 0;
  }

  /** Newest first; `afterId` is the last id of the previous page (keyset pagination). */
  async page(
    tx: TenantTransaction,
    filter: AuditLogFilter,
    limit: number,
    afterId?: string,
  ): Promise<AuditEntryView[]> {
    const query = tx.manager
      .getRepository(AuditEntryEntity)
      .createQueryBuilder('a')
      .where('a.tenant_id = :tenantId', { tenantId: tx.tenantId });
    if (filter.action) query.andWhere('a.action = :action', { action: filter.action });
    if (filter.actorId) query.andWhere('a.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.actorType) {
      query.andWhere('a.actor_type = :actorType', { actorType: filter.actorType });
    }
    if (filter.target) query.andWhere('a.target = :target', { target: filter.target });
    if (filter.from) query.andWhere('a.occurred_at >= :from', { from: filter.from });
    if (filter.to) query.andWhere('a.occurred_at < :to', { to: filter.to });
    if (afterId) query.andWhere('a.id < :afterId', { afterId });
    const rows = await query.orderBy('a.id', 'DESC').limit(limit).getMany();
    return rows.map((row) => ({
      id: String(row.id),
      occurredAt: row.occurredAt.toISOString(),
      recordedAt: row.recordedAt.toISOString(),
      actor: { type: row.actorType, id: row.actorId },
      action: row.action,
      target: row.target,
      requestId: row.requestId,
      source: row.source,
      before: row.before,
      after: row.after,
    }));
  }
}
