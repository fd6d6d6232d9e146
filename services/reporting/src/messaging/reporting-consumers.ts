import {
  ApiCallCompletedEvent,
  ReportExportRequestedJob,
  RoleAssignedEvent,
  SubscriptionChangedEvent,
  TenantCreatedEvent,
} from '@tenantry/contracts';
import type { InboxConsumer, InboxOutcome, Outbox, RetryPolicy } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import { authorizationEventHandlers } from './authorization-events.handler';
import { billingEventHandlers } from './billing-events.handler';
import type { ExportJobDeps } from './export-job.handler';
import { exportJobHandler } from './export-job.handler';
import { identityEventHandlers } from './identity-events.handler';
import type { ReadModelDeps } from './read-model-deps';
import { usageEventsHandler } from './usage-events.handler';

/** Each consumer's purpose (its group is `<prefix>.<purpose>`) and the one topic it reads. */
export const REPORTING_CONSUMER_TOPICS = {
  identity: TenantCreatedEvent.topic,
  authorization: RoleAssignedEvent.topic,
  billing: SubscriptionChangedEvent.topic,
  usage: ApiCallCompletedEvent.topic,
} as const;

/** The export jobs' group (`<prefix>.jobs`): not a read model, so a rebuild leaves it alone. */
export const EXPORT_JOBS_PURPOSE = 'jobs';

/** Every consumer group of the read models with its topic. */
export function reportingConsumerGroups(groupPrefix: string): { group: string; topic: string }[] {
  return Object.entries(REPORTING_CONSUMER_TOPICS).map(([purpose, topic]) => ({
    group: `${groupPrefix}.${purpose}`,
    topic,
  }));
}

export interface ReportingConsumersOptions {
  readonly consumers: ServiceConsumers;
  readonly deps: ReadModelDeps;
  /** Where the purge's confirmation is written (the offboarding saga). */
  readonly outbox: Outbox;
  readonly groupPrefix: string;
  /** Retries before a refused event (payload of another tenant) goes to the DLQ. */
  readonly retry?: RetryPolicy;
  readonly onOutcome?: (consumer: string, outcome: InboxOutcome, tenantId?: string) => void;
  readonly exportJobs: ExportJobDeps;
}

export interface ReportingConsumers {
  readonly identity: InboxConsumer;
  readonly authorization: InboxConsumer;
  readonly billing: InboxConsumer;
  readonly usage: InboxConsumer;
  /** `reporting.jobs`: report exports. */
  readonly jobs: InboxConsumer;
}

/**
 * One durable group per source topic, so a burst of usage never holds back members or
 * billing: `<prefix>.identity`, `<prefix>.authorization`, `<prefix>.billing`, `<prefix>.usage`.
 */
export function createReportingConsumers(options: ReportingConsumersOptions): ReportingConsumers {
  const { consumers, deps, groupPrefix } = options;
  const durable = (
    purpose: keyof typeof REPORTING_CONSUMER_TOPICS | typeof EXPORT_JOBS_PURPOSE,
    extra: { partitionsConsumedConcurrently?: number } = {},
  ) =>
    consumers.durable(`${groupPrefix}.${purpose}`, {
      ...extra,
      ...(options.retry ? { retry: options.retry } : {}),
      onOutcome: (outcome, metadata) => options.onOutcome?.(purpose, outcome, metadata?.tenantid),
    });
  const identity = durable('identity');
  for (const r of identityEventHandlers(deps, {
    outbox: options.outbox,
    exportFiles: options.exportJobs.files,
  }))
    r.register(identity);
  const authorization = durable('authorization');
  for (const r of authorizationEventHandlers(deps)) r.register(authorization);
  const billing = durable('billing');
  for (const r of billingEventHandlers(deps)) r.register(billing);
  const usage = durable('usage', { partitionsConsumedConcurrently: 6 }).onBatch(
    ApiCallCompletedEvent,
    usageEventsHandler(deps),
  );
  const jobs = durable(EXPORT_JOBS_PURPOSE).on(
    ReportExportRequestedJob,
    exportJobHandler(options.exportJobs),
  );
  return { identity, authorization, billing, usage, jobs };
}
