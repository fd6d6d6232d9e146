import type { TenantTransaction } from '@tenantry/db';
import { emptyHistogram, latencyBucket } from '../domain/latency-histogram';
import type { Granularity, ReportRange } from '../domain/report-range';
import { bucketStart } from '../domain/report-range';
import type { StatusClass } from '../domain/usage-dimensions';
import { isServerError, routeGroupOf, statusClassOf } from '../domain/usage-dimensions';
import { queryRows } from './sql-rows';

/** One completed API call, as the read model needs it. */
export interface ApiCall {
  readonly at: Date;
  readonly route: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly actorType: string;
  readonly actorId: string;
}

/** One stored bucket row (a bucket x route group x status class). */
export interface UsageBucketRow {
  readonly bucketStart: Date;
  readonly routeGroup: string;
  readonly statusClass: StatusClass;
  readonly calls: number;
  readonly serverErrors: number;
  readonly latencySumUs: number;
  readonly latencyMaxMs: number;
  readonly histogram: number[];
}

interface Pending {
  bucket_start: string;
  route_group: string;
  status_class: StatusClass;
  calls: number;
  server_errors: number;
  latency_sum_us: number;
  latency_max_ms: number;
  latency_histogram: number[];
}

const TABLE: Readonly<Record<Granularity, string>> = { hour: 'usage_hourly', day: 'usage_daily' };

function addUp(calls: readonly ApiCall[], granularity: Granularity): Pending[] {
  const rows = new Map<string, Pending>();
  for (const call of calls) {
    const start = bucketStart(call.at, granularity).toISOString();
    const routeGroup = routeGroupOf(call.route);
    const statusClass = statusClassOf(call.status);
    const key = `${start}|${routeGroup}|${statusClass}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        bucket_start: start,
        route_group: routeGroup,
        status_class: statusClass,
        calls: 0,
        server_errors: 0,
        latency_sum_us: 0,
        latency_max_ms: 0,
        latency_histogram: emptyHistogram(),
      };
      rows.set(key, row);
    }
    const latency = Number.isFinite(call.latencyMs) && call.latencyMs > 0 ? call.latencyMs : 0;
    row.calls += 1;
    if (isServerError(call.status)) row.server_errors += 1;
    row.latency_sum_us += Math.round(latency * 1000);
    row.latency_max_ms = Math.max(row.latency_max_ms, latency);
    const b = latencyBucket(latency);
    row.latency_histogram[b] = (row.latency_histogram[b] ?? 0) + 1;
  }
  return [...rows.values()];
}

/** Usage buckets (hour and day) and daily active actors: every write adds, so order is free. */
export class UsageRepository {
  /** Adds calls (already deduplicated by the inbox) to their hour and day buckets. */
  async add(tx: TenantTransaction, calls: readonly ApiCall[]): Promise<void> {
    if (calls.length === 0) return;
    for (const granularity of ['hour', 'day'] as const) {
      const table = TABLE[granularity];
      await tx.manager.query(
        `INSERT INTO ${table} AS u (tenant_id, bucket_start, route_group, status_class, calls,
                                    server_errors, latency_sum_us, latency_max_ms, latency_histogram)
         SELECT $1, r.bucket_start, r.route_group, r.status_class, r.calls, r.server_errors,
                r.latency_sum_us, r.latency_max_ms, r.latency_histogram
           FROM jsonb_to_recordset($2::jsonb) AS r(bucket_start timestamptz, route_group text,
                status_class text, calls bigint, server_errors bigint, latency_sum_us bigint,
                latency_max_ms double precision, latency_histogram bigint[])
         ON CONFLICT (tenant_id, bucket_start, route_group, status_class) DO UPDATE SET
           calls = u.calls + EXCLUDED.calls,
           server_errors = u.server_errors + EXCLUDED.server_errors,
           latency_sum_us = u.latency_sum_us + EXCLUDED.latency_sum_us,
           latency_max_ms = GREATEST(u.latency_max_ms, EXCLUDED.latency_max_ms),
           latency_histogram = ARRAY(
             SELECT a + b
               FROM unnest(u.latency_histogram, EXCLUDED.latency_histogram)
                    WITH ORDINALITY AS h(a, b, i)
              ORDER BY i)`,
        [tx.tenantId, JSON.stringify(addUp(calls, granularity))],
      );
    }
    const actors = new Map<
      string,
      { day: string; actor_type: string; actor_id: string; calls: number }
    >();
    for (const call of calls) {
      const day = bucketStart(call.at, 'day').toISOString();
      const key = `${day}|${call.actorType}|${call.actorId}`;
      const entry = actors.get(key) ?? {
        day,
        actor_type: call.actorType,
        actor_id: call.actorId,
        calls: 0,
      };
      entry.calls += 1;
      actors.set(key, entry);
    }
    await tx.manager.query(
      `INSERT INTO active_users_daily AS a (tenant_id, day, actor_type, actor_id, calls)
       SELECT $1, r.day, r.actor_type, r.actor_id, r.calls
         FROM jsonb_to_recordset($2::jsonb)
              AS r(day timestamptz, actor_type text, actor_id text, calls bigint)
       ON CONFLICT (tenant_id, day, actor_type, actor_id)
         DO UPDATE SET calls = a.calls + EXCLUDED.calls`,
      [tx.tenantId, JSON.stringify([...actors.values()])],
    );
  }

  /** The stored rows of the range, oldest first. */
  async rows(
    tx: TenantTransaction,
    range: ReportRange,
    routeGroup?: string,
  ): Promise<UsageBucketRow[]> {
    const rows = await queryRows<{
      bucket_start: Date;
      route_group: string;
      status_class: StatusClass;
      calls: string;
      server_errors: string;
      latency_sum_us: string;
      latency_max_ms: number;
      latency_histogram: string[];
    }>(
      tx,
      `SELECT bucket_start, route_group, status_class, calls::text, server_errors::text,
              latency_sum_us::text, latency_max_ms, latency_histogram::text[]
         FROM ${TABLE[range.granularity]}
        WHERE bucket_start >= $1 AND bucket_start < $2
          AND ($3::text IS NULL OR route_group = $3)
        ORDER BY bucket_start, route_group, status_class`,
      [range.from, range.to, routeGroup ?? null],
    );
    return rows.map((r) => ({
      bucketStart: r.bucket_start,
      routeGroup: r.route_group,
      statusClass: r.status_class,
      calls: Number(r.calls),
      serverErrors: Number(r.server_errors),
      latencySumUs: Number(r.latency_sum_us),
      latencyMaxMs: Number(r.latency_max_ms),
      histogram: r.latency_histogram.map(Number),
    }));
  }

  /**
   * Distinct users and API keys that called in the range's UTC days (a user is counted once
   * however many days), and per day.
   */
  async activeActors(
    tx: TenantTransaction,
    range: ReportRange,
  ): Promise<{
    users: number;
    apiKeys: number;
    byDay: { day: Date; users: number; apiKeys: number }[];
  }> {
    const from = bucketStart(range.from, 'day');
    const params = [from, range.to];
    const [total] = await queryRows<{ users: number; api_keys: number }>(
      tx,
      `SELECT count(DISTINCT actor_id) FILTER (WHERE actor_type = 'user')::int AS users,
              count(DISTINCT actor_id) FILTER (WHERE actor_type = 'api_key')::int AS api_keys
         FROM active_users_daily WHERE day >= $1 AND day < $2`,
      params,
    );
    const byDay = await queryRows<{ day: Date; users: number; api_keys: number }>(
      tx,
      `SELECT day,
              count(*) FILTER (WHERE actor_type = 'user')::int AS users,
              count(*) FILTER (WHERE actor_type = 'api_key')::int AS api_keys
         FROM active_users_daily WHERE day >= $1 AND day < $2
        GROUP BY day ORDER BY day`,
      params,
    );
    return {
      users: total?.users ?? 0,
      apiKeys: total?.api_keys ?? 0,
      byDay: byDay.map((r) => ({ day: r.day, users: r.users, apiKeys: r.api_keys })),
    };
  }
}
