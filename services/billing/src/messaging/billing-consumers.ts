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

/**
 * Every partition of `gateway.usage` (12) at once: kafkajs fetches again only when all batches of
 * the previous fetch are done, so with fewer, a fetch is worked off in rounds and an event on an
 * idle partition waits for all of them. One tenant's partitions no longer wait on each other
 * (aggregate shards, ADR 0017), so they can all run.
 */
export const USAGE_PARTITIONS_CONSUMED_CONCURRENTLY = 12;

/**
 * kafkajs' own 1 MiB of a partition per fetch (≈ 1,600 usage events), but room in the fetch for
 * all 12 partitions' share: with kafkajs' 10 MiB a busy fetch fills up on the first partitions of
 * the request and an idle tenant's partition near the end may get nothing until the next one.
 * Larger per-partition fetches (4 and 8 MiB) were measured and not taken: see bench/README.md.
 */
export const USAGE_MAX_BYTES_PER_PARTITION = 1024 * 1024;

/**
 * Read-ahead of the usage consumer (InboxConsumer `readAheadBytes`): about 60,000 usage events
 * (≈ 650 bytes each) held beyond the committed offsets over all partitions, so another tenant's
 * call behind a flood of up to that many on its partition is met after about one tenant round,
 * not after the flood. Held, an event costs about 5 KB of heap and buffers (kafkajs' message and
 * header views, the decoded envelope, and garbage: +213 MiB measured with 44,000 held,
 * bench/README.md), so a full window is about 300 MiB: billing's pods have 1 GiB.
 */
export const USAGE_READ_AHEAD_BYTES = 40 * 1024 * 1024;

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
      partitionsConsumedConcurrently: USAGE_PARTITIONS_CONSUMED_CONCURRENTLY,
      maxBytesPerPartition: USAGE_MAX_BYTES_PER_PARTITION,
      maxBytes: USAGE_PARTITIONS_CONSUMED_CONCURRENTLY * USAGE_MAX_BYTES_PER_PARTITION,
      readAheadBytes: USAGE_READ_AHEAD_BYTES,
      ...(options.usageRetry ? { retry: options.usageRetry } : {}),
      onOutcome: (outcome) => options.onUsageOutcome?.(outcome),
    })
    .onBatch(ApiCallCompletedEvent, apiCallCompletedHandler(deps));
  const jobs = consumers
    .durable(`${options.groupPrefix}.jobs`)
    .on(PeriodCloseRequestedJob, periodCloseHandler(deps));
  return { identity, usage, jobs };
}
