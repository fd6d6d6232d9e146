import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { IdempotencyKeys1796500000000 } from '@tenantry/http';
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
];
