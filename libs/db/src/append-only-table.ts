import type { QueryRunner } from 'typeorm';
import { sqlIdentifier as identifier } from './sql-identifier';

/**
 * The transaction-local setting that opens the one seam in an append-only table: erasure (tenant
 * deletion) run by the table's owner role, in a transaction that first does
 * `SELECT set_config('tenantry.audit_erasure', 'on', true)`. The application role can set the
 * setting too, but it holds no UPDATE/DELETE right and is not the owner, so it is refused anyway.
 */
export const AUDIT_ERASURE_SETTING = 'tenantry.audit_erasure';

/** The trigger function every append-only table uses; `migrateServiceDatabase` finds tables by it. */
export const APPEND_ONLY_TRIGGER_FUNCTION = 'append_only_refuse_change';

// Owner-only erasure, never TRUNCATE (that would erase every tenant at once). search_path is
// pinned so a role cannot shadow pg_catalog's functions with its own.
const TRIGGER_FUNCTION_SQL = `
  CREATE OR REPLACE FUNCTION ${APPEND_ONLY_TRIGGER_FUNCTION}() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog AS $$
  BEGIN
    IF TG_OP <> 'TRUNCATE'
       AND current_setting('${AUDIT_ERASURE_SETTING}', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
    THEN
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END $$`;

/**
 * Migration step: makes a table append-only. Triggers refuse UPDATE, DELETE and TRUNCATE for
 * every role (outside the erasure seam above), and `migrateServiceDatabase` revokes those rights
 * from the application role after each grant, so either one alone still holds.
 */
export async function makeTableAppendOnly(queryRunner: QueryRunner, table: string): Promise<void> {
  const t = identifier(table);
  await queryRunner.query(TRIGGER_FUNCTION_SQL);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${identifier(`${table}_append_only`)} ON ${t}`);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${identifier(`${table}_no_truncate`)} ON ${t}`);
  await queryRunner.query(
    `CREATE TRIGGER ${identifier(`${table}_append_only`)} BEFORE UPDATE OR DELETE ON ${t}
       FOR EACH ROW EXECUTE FUNCTION ${APPEND_ONLY_TRIGGER_FUNCTION}()`,
  );
  await queryRunner.query(
    `CREATE TRIGGER ${identifier(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${t}
       FOR EACH STATEMENT EXECUTE FUNCTION ${APPEND_ONLY_TRIGGER_FUNCTION}()`,
  );
  await queryRunner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${t} FROM PUBLIC`);
}

/** Migration step (reverse of the above); the shared function stays for other tables. */
export async function undoTableAppendOnly(queryRunner: QueryRunner, table: string): Promise<void> {
  const t = identifier(table);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${identifier(`${table}_append_only`)} ON ${t}`);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${identifier(`${table}_no_truncate`)} ON ${t}`);
}

/** The tables of the current schema that `makeTableAppendOnly` guards. */
export async function appendOnlyTables(queryRunner: QueryRunner): Promise<string[]> {
  const rows = (await queryRunner.query(
    `SELECT DISTINCT c.relname AS table
       FROM pg_trigger tg
       JOIN pg_class c ON c.oid = tg.tgrelid
       JOIN pg_proc p ON p.oid = tg.tgfoid
      WHERE p.proname = $1 AND c.relnamespace = current_schema()::regnamespace
        AND NOT tg.tgisinternal
      ORDER BY 1`,
    [APPEND_ONLY_TRIGGER_FUNCTION],
  )) as { table: string }[];
  return rows.map((row) => row.table);
}

/**
 * Run after the application role's grants (which cover every table): takes UPDATE, DELETE and
 * TRUNCATE back on each append-only table. Returns the tables it covered.
 */
export async function revokeAppendOnlyChanges(
  queryRunner: QueryRunner,
  appRole: string,
): Promise<string[]> {
  const tables = await appendOnlyTables(queryRunner);
  for (const table of tables) {
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON ${identifier(table)} FROM ${identifier(appRole)}`,
    );
  }
  return tables;
}
