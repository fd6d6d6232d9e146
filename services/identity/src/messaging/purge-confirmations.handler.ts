import type { EventHandler, EventsLogger } from '@tenantry/events';
import type { IdentityDeps } from '../application/identity-deps';
import { confirmTenantPurge } from '../application/tenant-lifecycle/confirm-tenant-purge';

/** A payload that names another tenant than its envelope: refused for good (the DLQ). */
export class ConfirmationTenantMismatchError extends Error {
  constructor(type: string, payloadTenant: string, envelopeTenant: string) {
    super(`${type} for tenant ${payloadTenant} in an envelope of ${envelopeTenant}`);
    this.name = 'ConfirmationTenantMismatchError';
  }
}

/** One service's `*.tenant.purged` confirmation -> the tenant's offboarding record. */
export function purgeConfirmationHandler(
  deps: IdentityDeps,
  service: string,
  logger: EventsLogger,
): EventHandler<{ tenantId: string }> {
  return async (event, tx) => {
    if (event.data.tenantId !== event.tenantid) {
      throw new ConfirmationTenantMismatchError(event.type, event.data.tenantId, event.tenantid);
    }
    const outcome = await confirmTenantPurge(tx, deps, { service, eventId: event.id }, logger);
    logger.info('tenant purge confirmation', { service, outcome, tenant_id: tx.tenantId });
  };
}
