/**
 * An event of a tenant that was purged, produced after its purge began: refused for good, so the
 * inbox sends it to `<topic>.dlq` with this reason instead of the handler re-creating the
 * tenant's rows (the offboarding saga, docs/adr/0016).
 */
export class TenantDeletedRefusal extends Error {
  constructor(
    readonly tenantId: string,
    readonly eventType: string,
  ) {
    super(`tenant deleted: ${eventType} of tenant ${tenantId} happened after its purge`);
    this.name = 'TenantDeletedRefusal';
  }
}

/**
 * What a consumer does with an event of a tenant it purged at `deletedAt`: an event that happened
 * later is refused (throws TenantDeletedRefusal: the DLQ); one from before, delivered late (events
 * are ordered per aggregate, not per tenant), is dropped by the caller without a trace.
 */
export function refuseEventAfterDeletion(
  event: { readonly type: string; readonly tenantId: string; readonly at: Date },
  deletedAt: Date,
): void {
  if (event.at.getTime() > deletedAt.getTime()) {
    throw new TenantDeletedRefusal(event.tenantId, event.type);
  }
}
