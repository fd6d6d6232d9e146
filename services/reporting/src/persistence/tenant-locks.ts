/**
 * The per-tenant lock every non-usage write takes first (members from their facts, the platform
 * summary from the read models, activity, freshness, the purge): held till commit, so the next
 * such write of the tenant starts after it and sees it. Always taken before the tenant lock
 * (tenant-repository.ts), so no two transactions wait on each other in a cycle.
 */
export const TENANT_DERIVE_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('reporting.derive:' || $1, 0))`;
