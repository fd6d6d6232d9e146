import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Global lookup (no row-level security, nothing secret): API key prefix -> its tenant. */
@Entity({ name: 'api_key_prefixes' })
export class ApiKeyPrefixEntity {
  @PrimaryColumn({ type: 'text' })
  prefix!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ name: 'api_key_id', type: 'uuid' })
  apiKeyId!: string;
}
