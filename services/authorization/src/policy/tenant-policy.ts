import type { Enforcer } from 'casbin';
import { joinPermission, splitPermission } from '../domain/permission-name';
import type { PolicySubject } from '../domain/policy-subject';
import { roleOfKey, subjectKey } from '../domain/policy-subject';

/** Subjects per tenant whose permission sets are kept; beyond it the memo starts over. */
const MEMO_LIMIT = 10_000;

const EMPTY: ReadonlySet<string> = new Set();

/**
 * One tenant's loaded policy: a Casbin enforcer (RBAC with domains) and, per subject, the set of
 * permissions Casbin's role graph gives it, computed once. A check is then a set lookup instead
 * of a scan of every policy line, which keeps it flat however many roles and grants the tenant
 * has. `decide` and Casbin's `enforce` agree (the unit spec compares them).
 */
export class TenantPolicy {
  private readonly memo = new Map<string, ReadonlySet<string>>();

  constructor(
    readonly tenantId: string,
    /** Policy version the rules were read at. */
    readonly version: number,
    readonly enforcer: Enforcer,
    readonly loadedAt = Date.now(),
  ) {}

  /** Operators and services hold no tenant roles: nothing is allowed. */
  private static holdsRoles(subject: PolicySubject): boolean {
    return subject.type === 'user' || subject.type === 'api_key';
  }

  /** The subject's permissions, from the memo when it is there (synchronous fast path). */
  cachedPermissionsOf(subject: PolicySubject): ReadonlySet<string> | undefined {
    if (!TenantPolicy.holdsRoles(subject)) return EMPTY;
    return this.memo.get(subjectKey(subject));
  }

  async permissionsOf(subject: PolicySubject): Promise<ReadonlySet<string>> {
    const cached = this.cachedPermissionsOf(subject);
    if (cached) return cached;
    const key = subjectKey(subject);
    const lines = await this.enforcer.getImplicitPermissionsForUser(key, this.tenantId);
    const permissions = new Set<string>();
    for (const [, domain, resource, action] of lines) {
      if (domain === this.tenantId && resource && action) {
        permissions.add(joinPermission(resource, action));
      }
    }
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(key, permissions);
    return permissions;
  }

  async rolesOf(subject: PolicySubject): Promise<string[]> {
    if (!TenantPolicy.holdsRoles(subject)) return [];
    const keys = await this.enforcer.getImplicitRolesForUser(subjectKey(subject), this.tenantId);
    return keys.flatMap((key) => roleOfKey(key) ?? []).sort();
  }

  /** Casbin's own evaluation of one request (the reference `decide` must agree with). */
  async enforce(subject: PolicySubject, permission: string): Promise<boolean> {
    const parts = splitPermission(permission);
    if (!parts || !TenantPolicy.holdsRoles(subject)) return false;
    return this.enforcer.enforce(subjectKey(subject), this.tenantId, parts.resource, parts.action);
  }
}
