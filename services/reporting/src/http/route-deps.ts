import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { withCurrentTenant } from '@tenantry/db';
import type { ReadModelDeps } from '../messaging/read-model-deps';

export interface RouteDeps {
  readonly dataSource: DataSource;
  readonly deps: ReadModelDeps;
}

/** Runs a report's reads in the caller's tenant transaction (RLS limits it to that tenant). */
export function inTenant<T>(
  routeDeps: RouteDeps,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return withCurrentTenant(routeDeps.dataSource, work);
}
