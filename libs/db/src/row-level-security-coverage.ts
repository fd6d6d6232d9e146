import { Client } from 'pg';

/** A DataSource, a QueryRunner, or anything else that answers a query with its rows. */
export interface RowsQueryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Tables of the current schema that hold a tenant column but are not under forced row-level
 * security with at least one policy. Tests compare this with a service's documented allow-list
 * (docs/adr/0008), so a new tenant table without RLS fails a build instead of leaking.
 */
export async function tenantTablesWithoutRowLevelSecurity(
  db: RowsQueryable,
  options: { columns?: readonly string[] } = {},
): Promise<string[]> {
  const rows = (await db.query(
    `SELECT c.relname AS table
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace
        AND c.relkind IN ('r', 'p')
        AND EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attname = ANY($1) AND NOT a.attisdropped)
        AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                 AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
      ORDER BY 1`,
    [options.columns ?? ['tenant_id']],
  )) as { table: string }[];
  return rows.map((row) => row.table);
}

/** {@link tenantTablesWithoutRowLevelSecurity} of the database at `connectionString` (tests). */
export async function tenantTablesWithoutRowLevelSecurityAt(
  connectionString: string,
  options: { columns?: readonly string[] } = {},
): Promise<string[]> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await tenantTablesWithoutRowLevelSecurity(
      { query: async (sql, parameters) => (await client.query(sql, parameters)).rows },
      options,
    );
  } finally {
    await client.end();
  }
}
