import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One version of a plan of the operator's catalogue (global: see the schema migration). */
@Entity({ name: 'plans' })
export class PlanEntity {
  @PrimaryColumn({ name: 'code', type: 'text' })
  code!: string;

  @PrimaryColumn({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'name', type: 'text' })
  name!: string;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  /** bigint columns arrive as strings from pg; converted with BigInt-safe parsing on read. */
  @Column({ name: 'seat_price_minor', type: 'bigint' })
  seatPriceMinor!: string;

  @Column({ name: 'included_api_calls', type: 'bigint' })
  includedApiCalls!: string;

  @Column({ name: 'overage_per_1000_minor', type: 'bigint' })
  overagePer1000Minor!: string;

  @Column({ name: 'trial_days', type: 'integer' })
  trialDays!: number;

  @Column({ name: 'active', type: 'boolean' })
  active!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
