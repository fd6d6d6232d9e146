import type { TenantTransaction } from '@tenantry/db';
import {
  BUILT_IN_ROLE_DESCRIPTIONS,
  BUILT_IN_ROLE_NAMES,
  BUILT_IN_ROLE_PERMISSIONS,
} from '../domain/built-in-roles';
import type { AssignableSubjectType } from '../domain/policy-subject';

export interface RoleView {
  readonly name: string;
  readonly description: string;
  readonly builtIn: boolean;
  readonly permissions: string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface AssignmentView {
  readonly subjectType: AssignableSubjectType;
  readonly subjectId: string;
  readonly role: string;
  readonly assignedAt: string;
}

export interface TenantRules {
  /** Policy version the rules were read at (0: never changed). */
  readonly version: number;
  /** [role, permission] */
  readonly grants: readonly (readonly [string, string])[];
  /** [subject type, subject id, role] */
  readonly assignments: readonly (readonly [string, string, string])[];
}

interface RoleRow {
  name: string;
  description: string;
  built_in: boolean;
  permissions: string[] | null;
  created_at: Date;
  updated_at: Date;
}

interface AssignmentRow {
  subject_type: AssignableSubjectType;
  subject_id: string;
  role: string;
  assigned_at: Date;
}

/**
 * Rows of a statement with RETURNING: TypeORM hands UPDATE and DELETE results back as
 * `[rows, affected]`, INSERT results as the rows.
 */
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

function roleView(row: RoleRow): RoleView {
  return {
    name: row.name,
    description: row.description,
    builtIn: row.built_in,
    permissions: (row.permissions ?? []).sort(),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const ROLE_SELECT = `
  SELECT r.name, r.description, r.built_in, r.created_at, r.updated_at,
         array_remove(array_agg(rp.permission ORDER BY rp.permission), NULL) AS permissions
  FROM roles r LEFT JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role = r.name`;

/**
 * Roles, grants, assignments and subject lifecycle of one tenant. Every method takes the tenant
 * transaction; row-level security limits each query to that tenant, and the explicit tenant
 * filters keep the plans on the primary keys.
 */
export class PolicyRepository {
  /**
   * Takes the tenant's policy lock (its `policy_versions` row) and bumps the version. Called
   * first by every change, so changes of one tenant run one at a time (the last-owner rule holds
   * under concurrency) and every replica's poller sees that something changed.
   */
  async bumpVersion(tx: TenantTransaction): Promise<number> {
    const [row] = returnedRows<{ version: string }>(
      await tx.manager.query(
        `INSERT INTO policy_versions (tenant_id, version, changed_at) VALUES ($1, 1, clock_timestamp())
       ON CONFLICT (tenant_id) DO UPDATE
         SET version = policy_versions.version + 1, changed_at = clock_timestamp()
       RETURNING version`,
        [tx.tenantId],
      ),
    );
    return Number(row?.version ?? 0);
  }

  async tenantState(tx: TenantTransaction): Promise<'active' | 'deleted' | undefined> {
    const rows = (await tx.manager.query(`SELECT state FROM tenants WHERE tenant_id = $1`, [
      tx.tenantId,
    ])) as { state: 'active' | 'deleted' }[];
    return rows[0]?.state;
  }

  /** When the tenant was purged here, or null while it is not. */
  async deletedAt(tx: TenantTransaction): Promise<Date | null> {
    const rows = (await tx.manager.query(
      `SELECT deleted_at FROM tenants WHERE tenant_id = $1 AND state = 'deleted'`,
      [tx.tenantId],
    )) as { deleted_at: Date | null }[];
    return rows[0] ? (rows[0].deleted_at ?? new Date(0)) : null;
  }

  /** Makes sure the tenant and its built-in roles exist; false when the tenant was deleted. */
  async ensureTenant(tx: TenantTransaction): Promise<boolean> {
    await tx.manager.query(
      `INSERT INTO tenants (tenant_id, state) VALUES ($1, 'active') ON CONFLICT DO NOTHING`,
      [tx.tenantId],
    );
    if ((await this.tenantState(tx)) !== 'active') return false;
    const names = [...BUILT_IN_ROLE_NAMES];
    await tx.manager.query(
      `INSERT INTO roles (tenant_id, name, description, built_in)
       SELECT $1, name, description, true
       FROM unnest($2::text[], $3::text[]) AS t(name, description)
       ON CONFLICT DO NOTHING`,
      [tx.tenantId, names, names.map((name) => BUILT_IN_ROLE_DESCRIPTIONS[name])],
    );
    const pairs = names.flatMap((name) =>
      BUILT_IN_ROLE_PERMISSIONS[name].map((permission) => [name, permission] as const),
    );
    await tx.manager.query(
      `INSERT INTO role_permissions (tenant_id, role, permission)
       SELECT $1, role, permission FROM unnest($2::text[], $3::text[]) AS t(role, permission)
       ON CONFLICT DO NOTHING`,
      [tx.tenantId, pairs.map(([role]) => role), pairs.map(([, permission]) => permission)],
    );
    return true;
  }

  /** Deletes everything the tenant had here (the audit log stays) and leaves a tombstone. */
  async purgeTenant(tx: TenantTransaction): Promise<void> {
    const t = [tx.tenantId];
    await tx.manager.query(`DELETE FROM role_assignments WHERE tenant_id = $1`, t);
    await tx.manager.query(`DELETE FROM roles WHERE tenant_id = $1`, t);
    await tx.manager.query(`DELETE FROM subjects WHERE tenant_id = $1`, t);
    await tx.manager.query(
      `INSERT INTO tenants (tenant_id, state, deleted_at) VALUES ($1, 'deleted', now())
       ON CONFLICT (tenant_id) DO UPDATE SET state = 'deleted', deleted_at = now()`,
      t,
    );
  }

  async listRoles(tx: TenantTransaction): Promise<RoleView[]> {
    const rows = (await tx.manager.query(
      `${ROLE_SELECT} WHERE r.tenant_id = $1 GROUP BY r.tenant_id, r.name ORDER BY r.built_in DESC, r.name`,
      [tx.tenantId],
    )) as RoleRow[];
    return rows.map(roleView);
  }

  async findRole(tx: TenantTransaction, name: string): Promise<RoleView | undefined> {
    const rows = (await tx.manager.query(
      `${ROLE_SELECT} WHERE r.tenant_id = $1 AND r.name = $2 GROUP BY r.tenant_id, r.name`,
      [tx.tenantId, name],
    )) as RoleRow[];
    return rows[0] ? roleView(rows[0]) : undefined;
  }

  async insertRole(
    tx: TenantTransaction,
    role: { name: string; description: string; permissions: readonly string[] },
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO roles (tenant_id, name, description, built_in) VALUES ($1, $2, $3, false)`,
      [tx.tenantId, role.name, role.description],
    );
    await this.insertGrants(tx, role.name, role.permissions);
  }

  async replaceRole(
    tx: TenantTransaction,
    role: { name: string; description: string; permissions: readonly string[] },
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE roles SET description = $3, updated_at = now() WHERE tenant_id = $1 AND name = $2`,
      [tx.tenantId, role.name, role.description],
    );
    await tx.manager.query(`DELETE FROM role_permissions WHERE tenant_id = $1 AND role = $2`, [
      tx.tenantId,
      role.name,
    ]);
    await this.insertGrants(tx, role.name, role.permissions);
  }

  async deleteRole(tx: TenantTransaction, name: string): Promise<void> {
    await tx.manager.query(`DELETE FROM roles WHERE tenant_id = $1 AND name = $2`, [
      tx.tenantId,
      name,
    ]);
  }

  private async insertGrants(
    tx: TenantTransaction,
    role: string,
    permissions: readonly string[],
  ): Promise<void> {
    if (permissions.length === 0) return;
    await tx.manager.query(
      `INSERT INTO role_permissions (tenant_id, role, permission)
       SELECT $1, $2, permission FROM unnest($3::text[]) AS t(permission) ON CONFLICT DO NOTHING`,
      [tx.tenantId, role, [...permissions]],
    );
  }

  async countAssignmentsOf(tx: TenantTransaction, role: string): Promise<number> {
    const [row] = (await tx.manager.query(
      `SELECT count(*)::int AS n FROM role_assignments WHERE tenant_id = $1 AND role = $2`,
      [tx.tenantId, role],
    )) as { n: number }[];
    return row?.n ?? 0;
  }

  async countUserOwners(tx: TenantTransaction): Promise<number> {
    const [row] = (await tx.manager.query(
      `SELECT count(*)::int AS n FROM role_assignments
       WHERE tenant_id = $1 AND role = 'owner' AND subject_type = 'user'`,
      [tx.tenantId],
    )) as { n: number }[];
    return row?.n ?? 0;
  }

  /** What the subject holds right now, read inside the change's transaction (not from a cache). */
  async permissionsOf(
    tx: TenantTransaction,
    subjectType: string,
    subjectId: string,
  ): Promise<Set<string>> {
    const rows = (await tx.manager.query(
      `SELECT DISTINCT rp.permission FROM role_assignments ra
       JOIN role_permissions rp ON rp.tenant_id = ra.tenant_id AND rp.role = ra.role
       WHERE ra.tenant_id = $1 AND ra.subject_type = $2 AND ra.subject_id = $3`,
      [tx.tenantId, subjectType, subjectId],
    )) as { permission: string }[];
    return new Set(rows.map((row) => row.permission));
  }

  async listAssignments(
    tx: TenantTransaction,
    filter: { subjectType?: string; subjectId?: string; role?: string } = {},
  ): Promise<AssignmentView[]> {
    const rows = (await tx.manager.query(
      `SELECT subject_type, subject_id, role, assigned_at FROM role_assignments
       WHERE tenant_id = $1
         AND ($2::text IS NULL OR subject_type = $2)
         AND ($3::text IS NULL OR subject_id = $3)
         AND ($4::text IS NULL OR role = $4)
       ORDER BY subject_type, subject_id, role
       LIMIT 1000`,
      [tx.tenantId, filter.subjectType ?? null, filter.subjectId ?? null, filter.role ?? null],
    )) as AssignmentRow[];
    return rows.map((row) => ({
      subjectType: row.subject_type,
      subjectId: row.subject_id,
      role: row.role,
      assignedAt: row.assigned_at.toISOString(),
    }));
  }

  /** True when the assignment is new. */
  async assign(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    role: string,
  ): Promise<boolean> {
    const rows = returnedRows(
      await tx.manager.query(
        `INSERT INTO role_assignments (tenant_id, subject_type, subject_id, role)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING role`,
        [tx.tenantId, subjectType, subjectId, role],
      ),
    );
    return rows.length > 0;
  }

  /** True when there was such an assignment. */
  async revoke(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    role: string,
  ): Promise<boolean> {
    const rows = returnedRows(
      await tx.manager.query(
        `DELETE FROM role_assignments
         WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND role = $4 RETURNING role`,
        [tx.tenantId, subjectType, subjectId, role],
      ),
    );
    return rows.length > 0;
  }

  /** Removes every role of the subject; returns the roles it had. */
  async revokeAll(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
  ): Promise<string[]> {
    const rows = returnedRows<{ role: string }>(
      await tx.manager.query(
        `DELETE FROM role_assignments WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3
         RETURNING role`,
        [tx.tenantId, subjectType, subjectId],
      ),
    );
    return rows.map((row) => row.role).sort();
  }

  /**
   * Records identity's word on a subject (member / API key) if it is newer than what is known:
   * returns false for a stale event, which the caller then ignores. A removal wins a tie.
   */
  async recordSubjectState(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
    state: 'active' | 'removed',
    at: Date,
  ): Promise<boolean> {
    const newer = state === 'active' ? '<' : '<=';
    const rows = returnedRows(
      await tx.manager.query(
        `INSERT INTO subjects (tenant_id, subject_type, subject_id, state, changed_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, subject_type, subject_id) DO UPDATE
         SET state = EXCLUDED.state, changed_at = EXCLUDED.changed_at
         WHERE subjects.changed_at ${newer} EXCLUDED.changed_at
       RETURNING state`,
        [tx.tenantId, subjectType, subjectId, state, at],
      ),
    );
    return rows.length > 0;
  }

  async isActiveSubject(
    tx: TenantTransaction,
    subjectType: AssignableSubjectType,
    subjectId: string,
  ): Promise<boolean> {
    const rows = (await tx.manager.query(
      `SELECT 1 FROM subjects WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3
         AND state = 'active'`,
      [tx.tenantId, subjectType, subjectId],
    )) as unknown[];
    return rows.length > 0;
  }

  /** The tenant's whole policy, for the Casbin adapter. */
  async loadRules(tx: TenantTransaction): Promise<TenantRules> {
    // The version first: a change committed while the rules are read makes the poller reload
    // once more, never miss it.
    const versions = (await tx.manager.query(
      `SELECT version FROM policy_versions WHERE tenant_id = $1`,
      [tx.tenantId],
    )) as { version: string }[];
    const grants = (await tx.manager.query(
      `SELECT role, permission FROM role_permissions WHERE tenant_id = $1`,
      [tx.tenantId],
    )) as { role: string; permission: string }[];
    const assignments = (await tx.manager.query(
      `SELECT subject_type, subject_id, role FROM role_assignments WHERE tenant_id = $1`,
      [tx.tenantId],
    )) as { subject_type: string; subject_id: string; role: string }[];
    return {
      version: Number(versions[0]?.version ?? 0),
      grants: grants.map((row) => [row.role, row.permission] as const),
      assignments: assignments.map((row) => [row.subject_type, row.subject_id, row.role] as const),
    };
  }
}
