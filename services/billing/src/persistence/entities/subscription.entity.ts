import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's one subscription (tenant RLS). */
@Entity({ name: 'subscriptions' })
export class SubscriptionEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'plan_code', type: 'text' })
  planCode!: string;

  @Column({ name: 'plan_version', type: 'integer' })
  planVersion!: number;

  @Column({ name: 'status', type: 'text' })
  status!: string;

  @Column({ name: 'time_zone', type: 'text', nullable: true })
  timeZone!: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'trial_ends_at', type: 'timestamptz', nullable: true })
  trialEndsAt!: Date | null;

  @Column({ name: 'current_period_start', type: 'timestamptz' })
  currentPeriodStart!: Date;

  @Column({ name: 'current_period_end', type: 'timestamptz' })
  currentPeriodEnd!: Date;

  @Column({ name: 'pending_plan_code', type: 'text', nullable: true })
  pendingPlanCode!: string | null;

  @Column({ name: 'pending_plan_version', type: 'integer', nullable: true })
  pendingPlanVersion!: number | null;

  @Column({ name: 'cancel_at_period_end', type: 'boolean' })
  cancelAtPeriodEnd!: boolean;

  @Column({ name: 'canceled_at', type: 'timestamptz', nullable: true })
  canceledAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
