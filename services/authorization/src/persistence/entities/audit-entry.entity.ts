import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One audit record. Append-only: the table's triggers refuse UPDATE, DELETE and TRUNCATE. */
@Entity({ name: 'audit_log' })
export class AuditEntryEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  /** The event it was derived from (idempotency key). */
  @Column({ name: 'event_id', type: 'text', unique: true })
  eventId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ name: 'actor_type', type: 'text' })
  actorType!: string;

  @Column({ name: 'actor_id', type: 'text' })
  actorId!: string;

  @Column({ name: 'action', type: 'text' })
  action!: string;

  @Column({ name: 'target', type: 'text' })
  target!: string;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  /** The service that did it (CloudEvents `source`). */
  @Column({ name: 'source', type: 'text' })
  source!: string;

  @Column({ name: 'before', type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ name: 'after', type: 'jsonb', nullable: true })
  after!: unknown;
}
