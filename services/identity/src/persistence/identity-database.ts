import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import type { ServiceDatabaseConfig } from '@tenantry/db';
import { ApiKeyPrefixEntity } from './entities/api-key-prefix.entity';
import { ApiKeyEntity } from './entities/api-key.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import { InvitationEntity } from './entities/invitation.entity';
import { MembershipEntity } from './entities/membership.entity';
import { OperatorEntity } from './entities/operator.entity';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { SigningKeyEntity } from './entities/signing-key.entity';
import { TenantEntity } from './entities/tenant.entity';
import { UserTenantEntity } from './entities/user-tenant.entity';
import { UserEntity } from './entities/user.entity';
import { AuditLogAppendOnly1764300100000 } from './migrations/audit-log-append-only.migration';
import { AuditLogPersonalDataErasure1764300300000 } from './migrations/audit-log-personal-data-erasure.migration';
import { IdentitySchema1764300000000 } from './migrations/identity-schema.migration';
import { LookupTablesRowLevelSecurity1764300200000 } from './migrations/lookup-tables-row-level-security.migration';
import { TenantOffboarding1796800000000 } from './migrations/tenant-offboarding.migration';

/** Identity's database: entities and migrations, for the service and its commands. */
export function identityDatabase(database: {
  appUrl: string;
  ownerUrl: string;
}): ServiceDatabaseConfig {
  return {
    appUrl: database.appUrl,
    ownerUrl: database.ownerUrl,
    applicationName: 'identity',
    entities: [
      TenantEntity,
      UserEntity,
      UserTenantEntity,
      ApiKeyPrefixEntity,
      SigningKeyEntity,
      OperatorEntity,
      MembershipEntity,
      InvitationEntity,
      ApiKeyEntity,
      RefreshTokenEntity,
      AuditLogEntity,
    ],
    migrations: [
      EventTables1764230400000,
      OutboxSetAside1796238000000,
      IdentitySchema1764300000000,
      AuditLogAppendOnly1764300100000,
      LookupTablesRowLevelSecurity1764300200000,
      AuditLogPersonalDataErasure1764300300000,
      TenantOffboarding1796800000000,
    ],
  };
}
