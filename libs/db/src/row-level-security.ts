import type { QueryRunner } from 'typeorm';
import { sqlIdentifier as identifier } from './sql-identifier';

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
 * Migration step for a global lookup table that names a tenant but must be read before any
 * tenant is known (login's user -> tenants, an API key's prefix -> tenant): every role may read
 * every row, but a row can be inserted, changed or deleted only in its own tenant's transaction.
 * Forced, like the full policy, so the owner is held to it too.
 */
export async function enableTenantWriteRowLevelSecurity(
  queryRunner: QueryRunner,
  table: string,
  options: { column?: string } = {},
): Promise<void> {
  const predicate = TENANT_PREDICATE_SQL(options.column ?? 'tenant_id');
  const t = identifier(table);
  await queryRunner.query(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`);
  await queryRunner.query(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);
  await queryRunner.query(
    `CREATE POLICY ${identifier(`${table}_global_read`)} ON ${t} FOR SELECT USING (true)`,
  );
  await queryRunner.query(
    `CREATE POLICY ${identifier(`${table}_tenant_insert`)} ON ${t} FOR INSERT
       WITH CHECK (${predicate})`,
  );
  await queryRunner.query(
    `CREATE POLICY ${identifier(`${table}_tenant_update`)} ON ${t} FOR UPDATE
       USING (${predicate}) WITH CHECK (${predicate})`,
  );
  await queryRunner.query(
    `CREATE POLICY ${identifier(`${table}_tenant_delete`)} ON ${t} FOR DELETE USING (${predicate})`,
  );
}

/** Migration step (reverse of the above). */
export async function disableTenantWriteRowLevelSecurity(
  queryRunner: QueryRunner,
  table: string,
): Promise<void> {
  const t = identifier(table);
  for (const policy of ['global_read', 'tenant_insert', 'tenant_update', 'tenant_delete']) {
    await queryRunner.query(`DROP POLICY IF EXISTS ${identifier(`${table}_${policy}`)} ON ${t}`);
  }
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
