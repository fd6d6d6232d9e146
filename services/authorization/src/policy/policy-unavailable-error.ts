/** The policy of a tenant cannot be loaded (database down): callers must refuse, never allow. */
export class PolicyUnavailableError extends Error {
  constructor(tenantId: string, options?: { cause?: unknown }) {
    super(`the policy of tenant ${tenantId} cannot be loaded`, options);
    this.name = 'PolicyUnavailableError';
  }
}
