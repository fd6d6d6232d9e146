import type { DataSource, EntityManager } from 'typeorm';
import { requireTenantContext } from '@tenantry/tenancy';

/**
 * A database transaction bound to one tenant. Tenant-scoped repositories take this, not a bare
 * EntityManager, so a query cannot be written without a tenant; row-level security enforces it.
 */
export interface TenantTransaction {
  readonly tenantId: string;
  readonly manager: EntityManager;
}

const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidTenantIdError extends Error {
  constructor(tenantId: string) {
    super(`invalid tenant id ${JSON.stringify(tenantId)}`);
    this.name = 'InvalidTenantIdError';
  }
}

/**
 * Runs `work` in one transaction in which PostgreSQL's `app.tenant_id` is set for that
 * transaction only (`set_config(..., true)` is `SET LOCAL`), so a pooled connection never carries
 * one tenant's setting into another request.
 */
export async function withTenant<T>(
  dataSource: DataSource,
  tenantId: string,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new InvalidTenantIdError(tenantId);
  return dataSource.transaction(async (manager) => {
    await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    return work({ tenantId, manager });
  });
}

/** `withTenant` for the tenant of the current request or event context. */
export function withCurrentTenant<T>(
  dataSource: DataSource,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withTenant(dataSource, requireTenantContext('a tenant transaction').tenantId, work);
}
