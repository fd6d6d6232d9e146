import type { TopicDeclaration } from '@tenantry/events';

/**
 * Every topic of the platform, declared once; each service provisions them at start (creating
 * only what is missing), with a `<topic>.dlq` beside each.
 */
export const PLATFORM_TOPICS: readonly TopicDeclaration[] = [
  { name: 'identity.events', partitions: 6 },
  { name: 'authorization.events', partitions: 6 },
  { name: 'billing.events', partitions: 6 },
  { name: 'billing.jobs', partitions: 3 },
  { name: 'reporting.events', partitions: 3 },
  { name: 'reporting.jobs', partitions: 3 },
  // One event per API call: the busiest topic, kept for a day (billing aggregates it).
  { name: 'gateway.usage', partitions: 12, retentionMs: 24 * 60 * 60 * 1000 },
];
