import { PolicyChangedEvent } from '@tenantry/contracts';
import type { EventsLogger, InboxConsumer, InboxOutcome } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import type { PermissionDecisionCache } from '../auth/permission-decision-cache';

/** Every gateway replica's policy-cache consumer is named with this prefix. */
export const POLICY_CACHE_CONSUMER_PREFIX = 'gateway.policy-cache.';

export interface PolicyCacheConsumerOptions {
  readonly consumers: ServiceConsumers;
  readonly logger: EventsLogger;
  readonly cache: PermissionDecisionCache;
  readonly onOutcome?: (outcome: InboxOutcome) => void;
}

/**
 * This replica's listener for `authorization.policy.changed`: drops the tenant's cached
 * decisions. Its own consumer group (every replica must hear every change), starting at the
 * newest offset (a starting replica has nothing cached; history is useless to it). What it misses
 * while its group joins is bounded by the decision TTL.
 */
export function createPolicyCacheConsumer(options: PolicyCacheConsumerOptions): InboxConsumer {
  const { cache, logger } = options;
  return options.consumers
    .perInstance(POLICY_CACHE_CONSUMER_PREFIX, {
      fromBeginning: false,
      partitionsConsumedConcurrently: 6,
      onOutcome: options.onOutcome,
    })
    .on(PolicyChangedEvent, async (event) => {
      const dropped = cache.invalidateTenant(event.data.tenantId);
      logger.info('policy changed: cached decisions dropped', {
        tenantId: event.data.tenantId,
        change: event.data.change,
        dropped,
      });
    });
}
