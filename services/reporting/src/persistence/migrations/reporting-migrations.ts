import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { ReportingSchema1797100000000 } from './reporting-schema.migration';

/** Every migration of the reporting database, in order. */
export const REPORTING_MIGRATIONS = [
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  ReportingSchema1797100000000,
];
