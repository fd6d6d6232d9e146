import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { TenantStatus } from '../../domain/tenant-lifecycle';

export type { TenantStatus } from '../../domain/tenant-lifecycle';

/** Global registry (no row-level security): see the migration for why. */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  slug!: string;

  @Column({ type: 'text' })
  plan!: string;

  @Column({ type: 'text' })
  status!: TenantStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'status_changed_at', type: 'timestamptz' })
  statusChangedAt!: Date;

  // The offboarding saga (docs/adr/0016); null for a tenant nobody asked to delete.
  @Column({ name: 'deletion_requested_at', type: 'timestamptz', nullable: true })
  deletionRequestedAt!: Date | null;

  @Column({ name: 'purge_after', type: 'timestamptz', nullable: true })
  purgeAfter!: Date | null;

  @Column({ name: 'purge_started_at', type: 'timestamptz', nullable: true })
  purgeStartedAt!: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  /** What a canceled deletion restores. */
  @Column({ name: 'status_before_deletion', type: 'text', nullable: true })
  statusBeforeDeletion!: 'active' | 'suspended' | null;
}
