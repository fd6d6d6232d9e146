import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { IdempotencyKeys1796500000000 } from '@tenantry/http';
import { ErasedUsers1797400000000 } from './erased-users.migration';
import { ExportFiles1797500000000 } from './export-files.migration';
import { PlatformViews1797300000000 } from './platform-views.migration';
import { ReportExports1797200000000 } from './report-exports.migration';
import { ReportingSchema1797100000000 } from './reporting-schema.migration';

/** Every migration of the reporting database, in order. */
export const REPORTING_MIGRATIONS = [
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  ReportingSchema1797100000000,
  IdempotencyKeys1796500000000,
  ReportExports1797200000000,
  PlatformViews1797300000000,
  ErasedUsers1797400000000,
  ExportFiles1797500000000,
];
