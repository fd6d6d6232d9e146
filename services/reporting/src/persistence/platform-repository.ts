import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import type { Actor } from '@tenantry/tenancy';
import type { ReportRange } from '../domain/report-range';
import { bucketStart } from '../domain/report-range';
import { TENANT_DERIVE_LOCK_SQL } from './tenant-locks';

export interface PlatformTenant {
  readonly tenantId: string;
  readonly name: string | null;
  readonly plan: string | null;
  readonly status: string | null;
  readonly activeMembers: number;
  readonly subscriptionStatus: string | null;
  readonly planCode: string | null;
  readonly updatedAt: Date;
}

/**
 * The operator's cross-tenant figures: written per tenant in the handlers' transactions
 * (tenant-bound writes), read across tenants outside any tenant transaction (ADR 0008), and
 * every read recorded in the append-only `operator_access_log`.
 */
export class PlatformRepository {
  /** Re-derives the tenant's summary row from its read models, after the tenant's last writer. */
  async refreshTenant(tx: TenantTransaction): Promise<void> {
    await tx.manager.query(TENANT_DERIVE_LOCK_SQL, [tx.tenantId]);
    await tx.manager.query(
      `INSERT INTO platform_tenants AS t (tenant_id, name, plan, status, active_members,
           subscription_status, plan_code, updated_at)
       SELECT $1, p.name, p.plan, p.status,
              (SELECT count(*) FROM members WHERE active)::int, s.status, s.plan_code, now()
         FROM (SELECT 1) one
         LEFT JOIN tenant_profiles p ON true
         LEFT JOIN subscription_state s ON true
       ON CONFLICT (tenant_id) DO UPDATE SET
         name = EXCLUDED.name, plan = EXCLUDED.plan, status = EXCLUDED.status,
         active_members = EXCLUDED.active_members,
         subscription_status = EXCLUDED.subscription_status, plan_code = EXCLUDED.plan_code,
         updated_at = EXCLUDED.updated_at`,
      [tx.tenantId],
    );
  }

  /** Additive, like the tenant's own buckets. */
  async addUsage(
    tx: TenantTransaction,
    calls: readonly { at: Date; serverError: boolean }[],
  ): Promise<void> {
    const days = new Map<string, { day: string; calls: number; server_errors: number }>();
    for (const call of calls) {
      const day = bucketStart(call.at, 'day').toISOString();
      const entry = days.get(day) ?? { day, calls: 0, server_errors: 0 };
      entry.calls += 1;
      if (call.serverError) entry.server_errors += 1;
      days.set(day, entry);
    }
    await tx.manager.query(
      `INSERT INTO platform_usage_daily AS u (tenant_id, day, calls, server_errors)
       SELECT $1, r.day, r.calls, r.server_errors
         FROM jsonb_to_recordset($2::jsonb) AS r(day timestamptz, calls bigint, server_errors bigint)
       ON CONFLICT (tenant_id, day) DO UPDATE
         SET calls = u.calls + EXCLUDED.calls, server_errors = u.server_errors + EXCLUDED.server_errors`,
      [tx.tenantId, JSON.stringify([...days.values()])],
    );
  }

  async tenants(
    dataSource: DataSource,
    options: { limit: number; afterTenantId?: string },
  ): Promise<PlatformTenant[]> {
    const rows = (await dataSource.query(
      `SELECT tenant_id, name, plan, status, active_members, subscription_status, plan_code,
              updated_at
         FROM platform_tenants
        WHERE $1::text IS NULL OR tenant_id > $1
        ORDER BY tenant_id LIMIT $2`,
      [options.afterTenantId ?? null, options.limit],
    )) as {
      tenant_id: string;
      name: string | null;
      plan: string | null;
      status: string | null;
      active_members: number;
      subscription_status: string | null;
      plan_code: string | null;
      updated_at: Date;
    }[];
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      name: r.name,
      plan: r.plan,
      status: r.status,
      activeMembers: r.active_members,
      subscriptionStatus: r.subscription_status,
      planCode: r.plan_code,
      updatedAt: r.updated_at,
    }));
  }

  async usageByDay(
    dataSource: DataSource,
    range: ReportRange,
  ): Promise<{ day: Date; calls: number; serverErrors: number; tenants: number }[]> {
    const rows = (await dataSource.query(
      `SELECT day, sum(calls)::text AS calls, sum(server_errors)::text AS server_errors,
              count(*)::int AS tenants
         FROM platform_usage_daily WHERE day >= $1 AND day < $2
        GROUP BY day ORDER BY day`,
      [range.from, range.to],
    )) as { day: Date; calls: string; server_errors: string; tenants: number }[];
    return rows.map((r) => ({
      day: r.day,
      calls: Number(r.calls),
      serverErrors: Number(r.server_errors),
      tenants: r.tenants,
    }));
  }

  /** The audit record of one operator read (committed before the answer is sent). */
  async recordAccess(
    dataSource: DataSource,
    access: { actor: Actor; requestId: string; action: string; parameters: unknown },
  ): Promise<void> {
    await dataSource.query(
      `INSERT INTO operator_access_log (actor_type, actor_id, request_id, action, parameters)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        access.actor.type,
        access.actor.id,
        access.requestId,
        access.action,
        JSON.stringify(access.parameters),
      ],
    );
  }
}
