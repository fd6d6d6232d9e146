import {
  ApiCallCompletedEvent,
  MembershipAddedEvent,
  MembershipRemovedEvent,
  PeriodCloseRequestedJob,
  TenantCreatedEvent,
  TenantDeletedEvent,
} from '@tenantry/contracts';
import type { InboxConsumer, InboxOutcome, RetryPolicy } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import type { BillingDeps } from '../application/billing-deps';
import { apiCallCompletedHandler } from './api-call-completed.handler';
import { membershipAddedHandler } from './membership-added.handler';
import { membershipRemovedHandler } from './membership-removed.handler';
import { periodCloseHandler } from './period-close.handler';
import { tenantCreatedHandler } from './tenant-created.handler';
import { tenantDeletedHandler } from './tenant-deleted.handler';

export interface BillingConsumersOptions {
  readonly consumers: ServiceConsumers;
  readonly deps: BillingDeps;
  readonly groupPrefix: string;
  /** Retries before a refused usage event goes to the DLQ (it may race its tenant's creation). */
  readonly usageRetry?: RetryPolicy;
  readonly onUsageOutcome?: (outcome: InboxOutcome) => void;
}

export interface BillingConsumers {
  /** Identity lifecycle -> subscriptions, seats, final invoice and purge. */
  readonly identity: InboxConsumer;
  /** The gateway's usage events -> the usage ledger. */
  readonly usage: InboxConsumer;
  /** `billing.jobs`: period closes. */
  readonly jobs: InboxConsumer;
}

export function createBillingConsumers(options: BillingConsumersOptions): BillingConsumers {
  const { consumers, deps } = options;
  const identity = consumers
    .durable(`${options.groupPrefix}.identity`)
    .on(TenantCreatedEvent, tenantCreatedHandler(deps))
    .on(TenantDeletedEvent, tenantDeletedHandler(deps))
    .on(MembershipAddedEvent, membershipAddedHandler(deps))
    .on(MembershipRemovedEvent, membershipRemovedHandler(deps));
  const usage = consumers
    .durable(`${options.groupPrefix}.usage`, {
      partitionsConsumedConcurrently: 6,
      ...(options.usageRetry ? { retry: options.usageRetry } : {}),
      onOutcome: (outcome) => options.onUsageOutcome?.(outcome),
    })
    .onBatch(ApiCallCompletedEvent, apiCallCompletedHandler(deps));
  const jobs = consumers
    .durable(`${options.groupPrefix}.jobs`)
    .on(PeriodCloseRequestedJob, periodCloseHandler(deps));
  return { identity, usage, jobs };
}
