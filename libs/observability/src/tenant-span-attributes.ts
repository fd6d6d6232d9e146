import type { Attributes } from '@opentelemetry/api';
import type { TenantContext } from '@tenantry/tenancy';

/** Span attribute names, shared with anything that queries traces by tenant. */
export const TENANT_SPAN_ATTRIBUTES = {
  tenantId: 'tenant.id',
  actorType: 'actor.type',
  actorId: 'actor.id',
  requestId: 'request.id',
} as const;

export function tenantSpanAttributes(tenant: TenantContext): Attributes {
  return {
    [TENANT_SPAN_ATTRIBUTES.tenantId]: tenant.tenantId,
    [TENANT_SPAN_ATTRIBUTES.actorType]: tenant.actor.type,
    [TENANT_SPAN_ATTRIBUTES.actorId]: tenant.actor.id,
    [TENANT_SPAN_ATTRIBUTES.requestId]: tenant.requestId,
  };
}
