import type { QueryRunner } from 'typeorm';
import { AUDIT_ERASURE_SETTING } from './append-only-table';
import { sqlIdentifier as identifier } from './sql-identifier';

/** What an erased value becomes (the key stays, so a reader sees that something was there). */
export const ERASED_MARKER = '[erased]';

/** Shared helper: a jsonb value with personal fields replaced by the marker, at any depth. */
export const REDACT_FUNCTION = 'redact_personal_data';

/**
 * How one append-only table sheds the personal data of a deleted tenant (docs/adr/0013). Only
 * values inside `jsonColumns` change; every other column of the row stays as written.
 */
export interface PersonalDataErasureSpec {
  /** The append-only table, with a `tenant_id` column under forced row-level security. */
  readonly table: string;
  /** jsonb columns whose personal fields are redacted. */
  readonly jsonColumns: readonly string[];
  /**
   * Object keys whose (non-null) values are personal data. String values shaped like an email
   * address are redacted under any key as well.
   */
  readonly personalKeys: readonly string[];
  /**
   * SQL that is true when the transaction's tenant (`current_setting('app.tenant_id', true)`)
   * may be erased, e.g. its registry row says `deleted`. It is the guard that keeps the seam
   * narrow: the application role can call the eraser, but only for a tenant already deleted.
   */
  readonly erasableTenant: string;
  /**
   * SQL over the row, named `r` (e.g. `r.source <> '/services/me'`), limiting which rows carry
   * personal data (default: every row of the tenant).
   */
  readonly rowCondition?: string;
}

/** The SECURITY DEFINER function `installPersonalDataErasure` creates for `table`. */
export function personalDataEraserOf(table: string): string {
  return `${table}_erase_personal_data`;
}

// Replaces listed keys' values and email-shaped strings; recursion needs plpgsql (a SQL
// function's body is checked at creation, before the function exists).
const redactSql = (schema: string) => `
  CREATE OR REPLACE FUNCTION ${REDACT_FUNCTION}(value jsonb, personal_keys text[]) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE SET search_path = ${schema}, pg_temp AS $$
  DECLARE result jsonb;
  BEGIN
    CASE jsonb_typeof(value)
      WHEN 'object' THEN
        SELECT coalesce(jsonb_object_agg(k, CASE
                 WHEN k = ANY (personal_keys) AND jsonb_typeof(v) <> 'null'
                   THEN to_jsonb('${ERASED_MARKER}'::text)
                 ELSE ${REDACT_FUNCTION}(v, personal_keys) END), '{}'::jsonb)
          INTO result FROM jsonb_each(value) AS e(k, v);
        RETURN result;
      WHEN 'array' THEN
        SELECT coalesce(jsonb_agg(${REDACT_FUNCTION}(v, personal_keys) ORDER BY i), '[]'::jsonb)
          INTO result FROM jsonb_array_elements(value) WITH ORDINALITY AS a(v, i);
        RETURN result;
      WHEN 'string' THEN
        IF (value #>> '{}') ~ '[^@[:space:]]+@[^@[:space:]]+' THEN
          RETURN to_jsonb('${ERASED_MARKER}'::text);
        END IF;
        RETURN value;
      ELSE RETURN value;
    END CASE;
  END $$`;

function literalArray(values: readonly string[]): string {
  return `ARRAY[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(', ')}]::text[]`;
}

/**
 * Migration step, run by the owner role: the one way personal data leaves an append-only table.
 *
 * - `<table>_erase_personal_data()` is SECURITY DEFINER (it runs as the table's owner, with
 *   `tenantry.audit_erasure` on for its one UPDATE only), so identity's own delete transaction
 *   can call it as the application role, which still holds no UPDATE/DELETE right. It refuses
 *   unless `erasableTenant` holds, touches only the transaction's tenant (FORCE RLS holds the
 *   owner too) and only the personal fields. It returns how many rows changed; a second call
 *   changes none.
 * - A BEFORE INSERT trigger redacts a row written after its tenant was erased (an event that
 *   arrives late). An advisory lock per tenant, shared by inserts and exclusive for the eraser,
 *   means an insert racing the eraser is either seen by it or sees the erased tenant.
 */
export async function installPersonalDataErasure(
  queryRunner: QueryRunner,
  spec: PersonalDataErasureSpec,
): Promise<void> {
  const [current] = (await queryRunner.query(`SELECT current_schema() AS schema`)) as {
    schema: string;
  }[];
  const schema = current?.schema ?? 'public';
  const t = identifier(spec.table);
  const keys = literalArray(spec.personalKeys);
  const rows = spec.rowCondition ? `(${spec.rowCondition})` : 'true';
  const lockKey = `hashtextextended('${spec.table}:erasure:' || current_setting('app.tenant_id', true), 0)`;
  const redacted = spec.jsonColumns.map((column) => {
    const c = identifier(column);
    return { column: c, value: `${REDACT_FUNCTION}(r.${c}, ${keys})` };
  });
  const eraser = identifier(personalDataEraserOf(spec.table));
  const insertGuard = identifier(`${spec.table}_redact_erased_tenant`);

  await queryRunner.query(redactSql(identifier(schema)));
  // search_path: the table's schema, then pg_temp last, so nobody's temporary objects shadow it.
  await queryRunner.query(`
    CREATE OR REPLACE FUNCTION ${eraser}() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ${identifier(schema)}, pg_temp
    AS $$
    DECLARE
      changed integer;
      prior text := coalesce(current_setting('${AUDIT_ERASURE_SETTING}', true), '');
    BEGIN
      IF coalesce(current_setting('app.tenant_id', true), '') = '' THEN
        RAISE EXCEPTION '${spec.table}: erasure needs a tenant transaction'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      PERFORM pg_advisory_xact_lock(${lockKey});
      IF NOT (${spec.erasableTenant}) THEN
        RAISE EXCEPTION '${spec.table}: tenant % is not deleted, its personal data stays',
          current_setting('app.tenant_id', true) USING ERRCODE = 'insufficient_privilege';
      END IF;
      -- Open the append-only seam for this statement only (a function SET clause would need a
      -- superuser for a custom setting), then put back what the caller had.
      PERFORM set_config('${AUDIT_ERASURE_SETTING}', 'on', true);
      UPDATE ${t} AS r SET ${redacted.map((x) => `${x.column} = ${x.value}`).join(', ')}
       WHERE r.tenant_id::text = current_setting('app.tenant_id', true) AND ${rows}
         AND (${redacted.map((x) => `r.${x.column} IS DISTINCT FROM ${x.value}`).join(' OR ')});
      GET DIAGNOSTICS changed = ROW_COUNT;
      PERFORM set_config('${AUDIT_ERASURE_SETTING}', prior, true);
      RETURN changed;
    END $$`);
  await queryRunner.query(`
    CREATE OR REPLACE FUNCTION ${insertGuard}() RETURNS trigger
    LANGUAGE plpgsql SET search_path = ${identifier(schema)}, pg_temp AS $$
    DECLARE r ALIAS FOR NEW;
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(${lockKey});
      IF (${spec.erasableTenant}) AND ${rows} THEN
        ${redacted.map((x) => `r.${x.column} := ${x.value};`).join('\n        ')}
      END IF;
      RETURN NEW;
    END $$`);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${insertGuard} ON ${t}`);
  await queryRunner.query(
    `CREATE TRIGGER ${insertGuard} BEFORE INSERT ON ${t}
       FOR EACH ROW EXECUTE FUNCTION ${insertGuard}()`,
  );
}

/** Migration step (reverse of the above); the shared redaction helper stays for other tables. */
export async function undoPersonalDataErasure(
  queryRunner: QueryRunner,
  table: string,
): Promise<void> {
  const insertGuard = identifier(`${table}_redact_erased_tenant`);
  await queryRunner.query(`DROP TRIGGER IF EXISTS ${insertGuard} ON ${identifier(table)}`);
  await queryRunner.query(`DROP FUNCTION IF EXISTS ${insertGuard}()`);
  await queryRunner.query(`DROP FUNCTION IF EXISTS ${identifier(personalDataEraserOf(table))}()`);
}
