import {
  AuthorizationTenantPurgedEvent,
  ReportingTenantPurgedEvent,
  TenantBillingPurgedEvent,
} from '@tenantry/contracts';
import type { EventsLogger, InboxConsumer } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import type { IdentityDeps } from '../application/identity-deps';
import type { PurgingService } from '../domain/tenant-lifecycle';
import { purgeConfirmationHandler } from './purge-confirmations.handler';

/**
 * The offboarding saga's confirmations (`<prefix>.offboarding`): one event per service that
 * purged a tenant. Every service in PURGING_SERVICES has its event here.
 */
export function createOffboardingConsumer(options: {
  readonly consumers: ServiceConsumers;
  readonly deps: IdentityDeps;
  readonly groupPrefix: string;
  readonly logger: EventsLogger;
}): InboxConsumer {
  const { deps, logger } = options;
  const confirms = (service: PurgingService) => purgeConfirmationHandler(deps, service, logger);
  return options.consumers
    .durable(`${options.groupPrefix}.offboarding`)
    .on(AuthorizationTenantPurgedEvent, confirms('authorization'))
    .on(TenantBillingPurgedEvent, confirms('billing'))
    .on(ReportingTenantPurgedEvent, confirms('reporting'));
}
