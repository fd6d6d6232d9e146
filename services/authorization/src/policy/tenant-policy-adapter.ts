import type { FilteredAdapter, Model } from 'casbin';
import type { DataSource } from 'typeorm';
import { withTenant } from '@tenantry/db';
import { splitPermission } from '../domain/permission-name';
import { roleKey } from '../domain/policy-subject';
import { PolicyRepository } from '../persistence/policy-repository';

export interface TenantPolicyFilter {
  readonly tenantId: string;
}

export class ReadOnlyPolicyAdapterError extends Error {
  constructor(operation: string) {
    super(
      `${operation}: policies change only through the authorization use cases (one transaction ` +
        `with their events and audit record), never through the Casbin API`,
    );
    this.name = 'ReadOnlyPolicyAdapterError';
  }
}

/**
 * Casbin adapter over the service's own tables that loads one tenant at a time, so memory and
 * load time follow the tenant's size, not the platform's. Read-only: writes go through the use
 * cases, then every replica reloads the tenant.
 */
export class TenantPolicyAdapter implements FilteredAdapter {
  private filtered = false;
  /** Policy version of the last load. */
  version = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repository = new PolicyRepository(),
  ) {}

  isFiltered(): boolean {
    return this.filtered;
  }

  async loadPolicy(_model: Model): Promise<void> {
    throw new Error('the authorization policy is loaded per tenant: use loadFilteredPolicy');
  }

  async loadFilteredPolicy(model: Model, filter: TenantPolicyFilter): Promise<void> {
    const { tenantId } = filter;
    const rules = await withTenant(this.dataSource, tenantId, (tx) =>
      this.repository.loadRules(tx),
    );
    const p: string[][] = [];
    for (const [role, permission] of rules.grants) {
      const parts = splitPermission(permission);
      if (parts) p.push([roleKey(role), tenantId, parts.resource, parts.action]);
    }
    const g = rules.assignments.map(([type, id, role]) => [
      `${type}:${id}`,
      roleKey(role),
      tenantId,
    ]);
    if (p.length > 0) model.addPolicies('p', 'p', p);
    if (g.length > 0) model.addPolicies('g', 'g', g);
    this.version = rules.version;
    this.filtered = true;
  }

  async savePolicy(_model: Model): Promise<boolean> {
    throw new ReadOnlyPolicyAdapterError('savePolicy');
  }

  async addPolicy(_sec: string, _ptype: string, _rule: string[]): Promise<void> {
    throw new ReadOnlyPolicyAdapterError('addPolicy');
  }

  async removePolicy(_sec: string, _ptype: string, _rule: string[]): Promise<void> {
    throw new ReadOnlyPolicyAdapterError('removePolicy');
  }

  async removeFilteredPolicy(
    _sec: string,
    _ptype: string,
    _fieldIndex: number,
    ..._fieldValues: string[]
  ): Promise<void> {
    throw new ReadOnlyPolicyAdapterError('removeFilteredPolicy');
  }
}
