import { AuditEntryEntity } from './audit-entry.entity';

// Roles, grants and assignments are read and written with explicit SQL in PolicyRepository
// (upserts, set operations, the policy lock); only the audit log is queried through TypeORM.
export const AUTHORIZATION_ENTITIES = [AuditEntryEntity];
