import type { SubscriptionStatus } from '@tenantry/contracts';
import type { TenantTransaction } from '@tenantry/db';
import { queryRows } from './sql-rows';

export interface Subscription {
  readonly id: string;
  readonly tenantId: string;
  readonly planCode: string;
  readonly planVersion: number;
  readonly status: SubscriptionStatus;
  readonly timeZone: string | null;
  readonly startedAt: Date;
  readonly trialEndsAt: Date | null;
  readonly currentPeriodStart: Date;
  readonly currentPeriodEnd: Date;
  readonly pendingPlanCode: string | null;
  readonly pendingPlanVersion: number | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: Date | null;
}

interface SubscriptionRow {
  id: string;
  tenant_id: string;
  plan_code: string;
  plan_version: number;
  status: SubscriptionStatus;
  time_zone: string | null;
  started_at: Date;
  trial_ends_at: Date | null;
  current_period_start: Date;
  current_period_end: Date;
  pending_plan_code: string | null;
  pending_plan_version: number | null;
  cancel_at_period_end: boolean;
  canceled_at: Date | null;
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    planCode: row.plan_code,
    planVersion: row.plan_version,
    status: row.status,
    timeZone: row.time_zone,
    startedAt: row.started_at,
    trialEndsAt: row.trial_ends_at,
    currentPeriodStart: row.current_period_start,
    currentPeriodEnd: row.current_period_end,
    pendingPlanCode: row.pending_plan_code,
    pendingPlanVersion: row.pending_plan_version,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    canceledAt: row.canceled_at,
  };
}

/** The tenant's one subscription. */
export class SubscriptionRepository {
  async find(tx: TenantTransaction): Promise<Subscription | undefined> {
    const rows = await queryRows<SubscriptionRow>(tx, `SELECT * FROM subscriptions`);
    return rows[0] ? toSubscription(rows[0]) : undefined;
  }

  /** Locks the row: plan changes, period closes and payments of one tenant run one at a time. */
  async findForUpdate(tx: TenantTransaction): Promise<Subscription | undefined> {
    const rows = await queryRows<SubscriptionRow>(tx, `SELECT * FROM subscriptions FOR UPDATE`);
    return rows[0] ? toSubscription(rows[0]) : undefined;
  }

  /** Inserts unless the tenant has one already; returns whether it did. */
  async insert(tx: TenantTransaction, s: Subscription): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `INSERT INTO subscriptions (id, tenant_id, plan_code, plan_version, status, time_zone,
         started_at, trial_ends_at, current_period_start, current_period_end)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id) DO NOTHING RETURNING id`,
      [
        s.id,
        tx.tenantId,
        s.planCode,
        s.planVersion,
        s.status,
        s.timeZone,
        s.startedAt,
        s.trialEndsAt,
        s.currentPeriodStart,
        s.currentPeriodEnd,
      ],
    );
    return rows.length === 1;
  }

  async update(tx: TenantTransaction, s: Subscription): Promise<void> {
    await tx.manager.query(
      `UPDATE subscriptions SET plan_code = $2, plan_version = $3, status = $4, time_zone = $5,
         trial_ends_at = $6, current_period_start = $7, current_period_end = $8,
         pending_plan_code = $9, pending_plan_version = $10, cancel_at_period_end = $11,
         canceled_at = $12, updated_at = now()
       WHERE id = $1`,
      [
        s.id,
        s.planCode,
        s.planVersion,
        s.status,
        s.timeZone,
        s.trialEndsAt,
        s.currentPeriodStart,
        s.currentPeriodEnd,
        s.pendingPlanCode,
        s.pendingPlanVersion,
        s.cancelAtPeriodEnd,
        s.canceledAt,
      ],
    );
  }

  /** When billing purged the tenant, or null while it has not. */
  async tombstonedAt(tx: TenantTransaction): Promise<Date | null> {
    const rows = await queryRows<{ deleted_at: Date }>(
      tx,
      `SELECT deleted_at FROM tenant_tombstones`,
    );
    return rows[0]?.deleted_at ?? null;
  }

  async isTombstoned(tx: TenantTransaction): Promise<boolean> {
    const rows = await queryRows<{ tenant_id: string }>(
      tx,
      `SELECT tenant_id FROM tenant_tombstones`,
    );
    return rows.length > 0;
  }
}
