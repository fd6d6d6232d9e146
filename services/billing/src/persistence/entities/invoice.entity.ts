import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An invoice (tenant RLS); immutable once issued, enforced by a trigger. */
@Entity({ name: 'invoices' })
export class InvoiceEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'status', type: 'text' })
  status!: string;

  @Column({ name: 'sequence', type: 'integer', nullable: true })
  sequence!: number | null;

  @Column({ name: 'number', type: 'text', nullable: true })
  number!: string | null;

  @Column({ name: 'idempotency_key', type: 'text' })
  idempotencyKey!: string;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'plan_code', type: 'text' })
  planCode!: string;

  @Column({ name: 'plan_version', type: 'integer' })
  planVersion!: number;

  @Column({ name: 'period_start', type: 'timestamptz' })
  periodStart!: Date;

  @Column({ name: 'period_end', type: 'timestamptz' })
  periodEnd!: Date;

  @Column({ name: 'subtotal_minor', type: 'bigint' })
  subtotalMinor!: string;

  @Column({ name: 'total_minor', type: 'bigint' })
  totalMinor!: string;

  @Column({ name: 'is_final', type: 'boolean' })
  isFinal!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'issued_at', type: 'timestamptz', nullable: true })
  issuedAt!: Date | null;

  @Column({ name: 'due_at', type: 'timestamptz', nullable: true })
  dueAt!: Date | null;

  @Column({ name: 'overdue_at', type: 'timestamptz', nullable: true })
  overdueAt!: Date | null;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt!: Date | null;

  @Column({ name: 'payment_reference', type: 'text', nullable: true })
  paymentReference!: string | null;

  @Column({ name: 'paid_by', type: 'text', nullable: true })
  paidBy!: string | null;

  @Column({ name: 'voided_at', type: 'timestamptz', nullable: true })
  voidedAt!: Date | null;

  @Column({ name: 'void_reason', type: 'text', nullable: true })
  voidReason!: string | null;

  @Column({ name: 'voided_by', type: 'text', nullable: true })
  voidedBy!: string | null;
}
