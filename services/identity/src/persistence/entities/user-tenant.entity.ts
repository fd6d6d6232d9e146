import { Entity, PrimaryColumn } from 'typeorm';

/** Global lookup (no row-level security): user -> tenants, so login can choose the tenant. */
@Entity({ name: 'user_tenants' })
export class UserTenantEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;
}
