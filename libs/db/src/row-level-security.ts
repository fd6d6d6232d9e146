import type { QueryRunner } from 'typeorm';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`unsafe SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/**
 * The tenant predicate every policy uses. `current_setting(..., true)` is NULL when never set and
 * '' after a transaction-local setting has ended on a pooled connection: both match no row.
 */
export const TENANT_PREDICATE_SQL = (column: string): string =>
  `${identifier(column)}::text = NULLIF(current_setting('app.tenant_id', true), '')`;

/**
 * Migration step: turns on and forces row-level security on a tenant table, with one policy
 * that limits reads and writes to the transaction's tenant. FORCE makes it apply to the table
 * owner too, so only a BYPASSRLS role (none of the application's) can see across tenants.
 */
export async function enableTenantRowLevelSecurity(
  queryRunner: QueryRunner,
  table: string,
  options: { column?: string } = {},
): Promise<void> {
  const column = options.column ?? 'tenant_id';
  const t = identifier(table);
  await queryRunner.query(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`);
  await queryRunner.query(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);
  await queryRunner.query(
    `CREATE POLICY ${identifier(`${table}_tenant_isolation`)} ON ${t}
       USING (${TENANT_PREDICATE_SQL(column)})
       WITH CHECK (${TENANT_PREDICATE_SQL(column)})`,
  );
}

/** Migration step (reverse of the above). */
export async function disableTenantRowLevelSecurity(
  queryRunner: QueryRunner,
  table: string,
): Promise<void> {
  const t = identifier(table);
  await queryRunner.query(
    `DROP POLICY IF EXISTS ${identifier(`${table}_tenant_isolation`)} ON ${t}`,
  );
  await queryRunner.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
  await queryRunner.query(`ALTER TABLE ${t} DISABLE ROW LEVEL SECURITY`);
}

/**
 * Migration step, run by the owner role: lets the (non-owner) application role use every table
 * and sequence the owner creates, now and later, without making it an owner.
 */
export async function grantApplicationRole(
  queryRunner: QueryRunner,
  appRole: string,
): Promise<void> {
  const role = identifier(appRole);
  await queryRunner.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await queryRunner.query(
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
  );
  await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  await queryRunner.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`,
  );
  await queryRunner.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${role}`,
  );
}
