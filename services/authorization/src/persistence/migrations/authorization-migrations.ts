import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { AuthorizationSchema1764300000000 } from './authorization-schema.migration';
import { AuditLog1764300100000 } from './audit-log.migration';
import { AuditLogSharedGuard1764300200000 } from './audit-log-shared-guard.migration';
import { AuditLogPersonalDataErasure1764300400000 } from './audit-log-personal-data-erasure.migration';
import { PolicyVersionsRowLevelSecurity1764300300000 } from './policy-versions-row-level-security.migration';

/** Every migration of the authorization database, in order. */
export const AUTHORIZATION_MIGRATIONS = [
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  AuthorizationSchema1764300000000,
  AuditLog1764300100000,
  AuditLogSharedGuard1764300200000,
  PolicyVersionsRowLevelSecurity1764300300000,
  AuditLogPersonalDataErasure1764300400000,
];
