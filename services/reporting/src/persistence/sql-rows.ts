import type { TenantTransaction } from '@tenantry/db';

/** Rows of a query; UPDATE/DELETE ... RETURNING through TypeORM come back as [rows, count]. */
export function returnedRows<T>(result: unknown): T[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

export async function queryRows<T>(
  tx: TenantTransaction,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  return returnedRows<T>(await tx.manager.query(sql, [...params]));
}
