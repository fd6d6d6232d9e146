import { EventTables1764230400000, OutboxSetAside1796238000000 } from '@tenantry/events';
import { IdempotencyKeys1796500000000 } from '@tenantry/http';
import { BillingSchema1797000000000 } from './billing-schema.migration';
import { SeatEventsByTime1797200000000 } from './seat-events-by-time.migration';
import { UsageAggregateShards1797100000000 } from './usage-aggregate-shards.migration';

/** Every migration of the billing database, in order. */
export const BILLING_MIGRATIONS = [
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  BillingSchema1797000000000,
  IdempotencyKeys1796500000000,
  UsageAggregateShards1797100000000,
  SeatEventsByTime1797200000000,
];
