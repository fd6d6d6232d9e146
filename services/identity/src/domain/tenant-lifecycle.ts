/**
 * A tenant's lifecycle. `deleting`: the grace period of a deletion (refused like a suspended
 * tenant, an operator may still cancel); `purging`: identity erased its data and waits for every
 * service's confirmation; `deleted`: all confirmed (docs/adr/0016).
 */
export type TenantStatus = 'active' | 'suspended' | 'deleting' | 'purging' | 'deleted';

export const TENANT_STATUSES = ['active', 'suspended', 'deleting', 'purging', 'deleted'] as const;

/** The services that hold tenant data and must confirm its purge before the tenant is deleted. */
export const PURGING_SERVICES = ['authorization', 'billing', 'reporting'] as const;
export type PurgingService = (typeof PURGING_SERVICES)[number];

/** The status other services are told (the gateway's contract knows three). */
export type PublicTenantStatus = 'active' | 'suspended' | 'deleted';

export function publicStatusOf(status: TenantStatus): PublicTenantStatus {
  if (status === 'deleting') return 'suspended';
  if (status === 'purging') return 'deleted';
  return status;
}

/** No data of the tenant remains in identity (or is about to go): nothing may act in it. */
export function isErased(status: TenantStatus): boolean {
  return status === 'purging' || status === 'deleted';
}

/** Offboarding was asked for and is not undone: suspend/resume no longer apply. */
export function isOffboarding(status: TenantStatus): boolean {
  return status === 'deleting' || isErased(status);
}
