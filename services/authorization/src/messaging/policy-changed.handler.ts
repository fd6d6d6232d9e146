import type { PolicyChanged } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { PolicyEngine } from '../policy/policy-engine';

/** This replica drops the tenant's loaded policy; the next check reloads it. */
export function policyChangedHandler(engine: PolicyEngine): EventHandler<PolicyChanged> {
  return async (event) => {
    engine.invalidate(event.data.tenantId);
  };
}
