import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Tenant table (row-level security): who did what to which object, under which request.
 * Append-only: its triggers refuse UPDATE, DELETE and TRUNCATE, and the app role lacks the rights.
 */
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'actor_type', type: 'text' })
  actorType!: string;

  @Column({ name: 'actor_id', type: 'text' })
  actorId!: string;

  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'target_type', type: 'text' })
  targetType!: string;

  @Column({ name: 'target_id', type: 'text' })
  targetId!: string;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @Column({ type: 'jsonb' })
  details!: Record<string, unknown>;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
