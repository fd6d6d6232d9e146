import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A credit note against an issued invoice (tenant RLS; immutable). */
@Entity({ name: 'credit_notes' })
export class CreditNoteEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'invoice_id', type: 'uuid' })
  invoiceId!: string;

  @Column({ name: 'sequence', type: 'integer' })
  sequence!: number;

  @Column({ name: 'number', type: 'text' })
  number!: string;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor!: string;

  @Column({ name: 'reason', type: 'text' })
  reason!: string;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'issued_by', type: 'text' })
  issuedBy!: string;
}
