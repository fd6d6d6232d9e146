import { newEnforcer, newModelFromString } from 'casbin';
import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import type { EventsLogger } from '@tenantry/events';
import { silentLogger } from '@tenantry/events';
import { AUTHORIZATION_MODEL } from '../domain/authorization-model';
import type { PolicySubject } from '../domain/policy-subject';
import { PolicyUnavailableError } from './policy-unavailable-error';
import { TenantPolicy } from './tenant-policy';
import { TenantPolicyAdapter } from './tenant-policy-adapter';

export interface PolicyEngineOptions {
  readonly dataSource: DataSource;
  /** Tenants kept loaded (least recently used beyond this are dropped). */
  readonly cacheSize: number;
  /** A loaded tenant is reloaded at the latest after this long. */
  readonly ttlMs: number;
  /** Poll interval of the policy-version backstop; 0 turns polling off. */
  readonly pollIntervalMs: number;
  readonly logger?: EventsLogger;
}

interface Loading {
  readonly promise: Promise<TenantPolicy>;
  /** Set when the tenant was invalidated while loading: the result is used once, not cached. */
  stale: boolean;
}

// Rows changed this long before the last poll's newest are read again: a transaction stamps
// `changed_at` when it takes the lock and may commit a little later.
const POLL_OVERLAP_MS = 10_000;

/**
 * Decisions for every tenant, from a bounded cache of per-tenant Casbin enforcers loaded on
 * demand with a filtered (one tenant) load. A tenant is dropped from the cache when a
 * policy-changed event says so; a poll of policy versions catches any event missed, and a TTL
 * bounds staleness whatever happens. When a tenant cannot be loaded, checks throw
 * PolicyUnavailableError: callers answer 503, never "allowed".
 */
export class PolicyEngine {
  private readonly cache: LRUCache<string, TenantPolicy>;
  private readonly loading = new Map<string, Loading>();
  private readonly logger: EventsLogger;
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private watermark: Date | undefined;
  /** Counters for metrics and tests. */
  readonly stats = { loads: 0, invalidations: 0, pollInvalidations: 0 };

  constructor(private readonly options: PolicyEngineOptions) {
    this.logger = options.logger ?? silentLogger;
    this.cache = new LRUCache<string, TenantPolicy>({
      max: options.cacheSize,
      ttl: options.ttlMs,
      updateAgeOnGet: false,
    });
  }

  get cachedTenants(): number {
    return this.cache.size;
  }

  /** The tenant's loaded policy (loads it when it is not cached). */
  policyOf(tenantId: string): Promise<TenantPolicy> | TenantPolicy {
    return this.cache.get(tenantId) ?? this.load(tenantId);
  }

  /** Decisions for several permissions of one subject in one tenant. */
  async decide(
    tenantId: string,
    subject: PolicySubject,
    permissions: readonly string[],
  ): Promise<Record<string, boolean>> {
    const held = await this.permissionsOf(tenantId, subject);
    const decisions: Record<string, boolean> = {};
    for (const permission of permissions) decisions[permission] = held.has(permission);
    return decisions;
  }

  async allows(tenantId: string, subject: PolicySubject, permission: string): Promise<boolean> {
    return (await this.permissionsOf(tenantId, subject)).has(permission);
  }

  async permissionsOf(tenantId: string, subject: PolicySubject): Promise<ReadonlySet<string>> {
    const policy = this.cache.get(tenantId) ?? (await this.load(tenantId));
    return policy.cachedPermissionsOf(subject) ?? policy.permissionsOf(subject);
  }

  async rolesOf(tenantId: string, subject: PolicySubject): Promise<string[]> {
    const policy = await this.policyOf(tenantId);
    return policy.rolesOf(subject);
  }

  /** Drops the tenant's loaded policy; the next check reloads it. */
  invalidate(tenantId: string): void {
    this.stats.invalidations += 1;
    this.cache.delete(tenantId);
    const loading = this.loading.get(tenantId);
    if (loading) loading.stale = true;
  }

  private load(tenantId: string): Promise<TenantPolicy> {
    const existing = this.loading.get(tenantId);
    if (existing && !existing.stale) return existing.promise;
    const entry: Loading = { promise: this.loadFromDatabase(tenantId), stale: false };
    this.loading.set(tenantId, entry);
    entry.promise.then(
      (policy) => {
        if (this.loading.get(tenantId) === entry) this.loading.delete(tenantId);
        if (!entry.stale) this.cache.set(tenantId, policy);
      },
      () => {
        if (this.loading.get(tenantId) === entry) this.loading.delete(tenantId);
      },
    );
    return entry.promise;
  }

  private async loadFromDatabase(tenantId: string): Promise<TenantPolicy> {
    this.stats.loads += 1;
    try {
      const adapter = new TenantPolicyAdapter(this.options.dataSource);
      const enforcer = await newEnforcer(newModelFromString(AUTHORIZATION_MODEL));
      enforcer.setAdapter(adapter);
      await enforcer.loadFilteredPolicy({ tenantId });
      return new TenantPolicy(tenantId, adapter.version, enforcer);
    } catch (error) {
      this.logger.warn('tenant policy could not be loaded', { err: error, tenant_id: tenantId });
      throw new PolicyUnavailableError(tenantId, { cause: error });
    }
  }

  /** Starts the backstop poll of policy versions (no-op when the interval is 0). */
  startPolling(): void {
    if (this.options.pollIntervalMs <= 0 || this.poller) return;
    this.poller = setInterval(() => {
      this.polling ??= this.pollOnce()
        .then(
          () => undefined,
          (error: unknown) => {
            this.logger.warn('policy version poll failed', { err: error });
          },
        )
        .finally(() => {
          this.polling = undefined;
        });
    }, this.options.pollIntervalMs);
    this.poller.unref();
  }

  async stopPolling(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    await this.polling;
  }

  /** Drops every cached tenant whose policy version moved on since it was loaded. */
  async pollOnce(): Promise<number> {
    const since = this.watermark
      ? new Date(this.watermark.getTime() - POLL_OVERLAP_MS)
      : new Date(Date.now() - POLL_OVERLAP_MS);
    const rows = (await this.options.dataSource.query(
      `SELECT tenant_id, version, changed_at FROM policy_versions WHERE changed_at > $1
       ORDER BY changed_at LIMIT 10000`,
      [since],
    )) as { tenant_id: string; version: string; changed_at: Date }[];
    let dropped = 0;
    for (const row of rows) {
      if (!this.watermark || row.changed_at > this.watermark) this.watermark = row.changed_at;
      const cached = this.cache.peek(row.tenant_id);
      if (cached && cached.version < Number(row.version)) {
        this.invalidate(row.tenant_id);
        this.stats.pollInvalidations += 1;
        dropped += 1;
      }
    }
    return dropped;
  }
}
