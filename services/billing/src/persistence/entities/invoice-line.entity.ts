import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One line of an invoice (tenant RLS); fixed once its invoice is issued. */
@Entity({ name: 'invoice_lines' })
export class InvoiceLineEntity {
  @PrimaryColumn({ name: 'invoice_id', type: 'uuid' })
  invoiceId!: string;

  @PrimaryColumn({ name: 'position', type: 'integer' })
  position!: number;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'kind', type: 'text' })
  kind!: string;

  @Column({ name: 'description', type: 'text' })
  description!: string;

  @Column({ name: 'quantity', type: 'bigint' })
  quantity!: string;

  @Column({ name: 'unit_amount_minor', type: 'bigint' })
  unitAmountMinor!: string;

  @Column({ name: 'amount_minor', type: 'bigint' })
  amountMinor!: string;
}
