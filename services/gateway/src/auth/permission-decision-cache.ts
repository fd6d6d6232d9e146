import { LRUCache } from 'lru-cache';

export interface PermissionDecisionCacheOptions {
  /** How long a decision is reused; bounds staleness when an invalidation is missed. */
  readonly ttlMs: number;
  readonly maxEntries?: number;
}

interface Entry {
  readonly tenantId: string;
  readonly allowed: boolean;
}

const SEP = '\u0000';

/**
 * Decisions per tenant + actor + permission, with a short TTL and a size bound (LRU).
 * `invalidateTenant` drops a tenant's decisions at once, and also refuses to store answers to
 * checks that were already in flight when it ran (they may predate the change): every lookup
 * carries the sequence number it started at.
 */
export class PermissionDecisionCache {
  private readonly decisions: LRUCache<string, Entry>;
  /** Tenant -> sequence of its last invalidation (kept as long as a check can be in flight). */
  private readonly invalidatedAt: LRUCache<string, number>;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private seq = 0;

  constructor(private readonly options: PermissionDecisionCacheOptions) {
    const max = options.maxEntries ?? 100_000;
    this.decisions = new LRUCache({ max, ttl: options.ttlMs });
    this.invalidatedAt = new LRUCache({ max, ttl: Math.max(options.ttlMs, 60_000) });
  }

  static keyOf(tenantId: string, actor: { type: string; id: string }, permission: string): string {
    return [tenantId, actor.type, actor.id, permission].join(SEP);
  }

  /**
   * The cached decision, or the one `decide` fetches (identical concurrent lookups share one
   * fetch). A failing fetch is not cached: the next request asks again.
   */
  async get(
    tenantId: string,
    actor: { type: string; id: string },
    permission: string,
    decide: () => Promise<boolean>,
  ): Promise<{ allowed: boolean; cached: boolean }> {
    const key = PermissionDecisionCache.keyOf(tenantId, actor, permission);
    const hit = this.decisions.get(key);
    if (hit) return { allowed: hit.allowed, cached: true };
    const flightKey = `${key}${SEP}${this.invalidatedAt.get(tenantId) ?? 0}`;
    let pending = this.inFlight.get(flightKey);
    if (!pending) {
      const startedAt = ++this.seq;
      pending = decide()
        .then((allowed) => {
          if ((this.invalidatedAt.get(tenantId) ?? 0) < startedAt) {
            this.decisions.set(key, { tenantId, allowed });
          }
          return allowed;
        })
        .finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, pending);
    }
    return { allowed: await pending, cached: false };
  }

  /** Drops every decision of the tenant (a policy-changed event arrived). */
  invalidateTenant(tenantId: string): number {
    this.invalidatedAt.set(tenantId, ++this.seq);
    const prefix = `${tenantId}${SEP}`;
    let dropped = 0;
    // A scan of a bounded cache (microseconds per thousand entries) on a rare event, instead of
    // a per-tenant index that would have to follow the LRU's evictions.
    for (const key of [...this.decisions.keys()]) {
      if (key.startsWith(prefix)) {
        this.decisions.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  /**
   * Drops every decision about one actor of the tenant (its credential was revoked), and, like
   * `invalidateTenant`, refuses to store answers to the tenant's checks already in flight.
   */
  invalidateActor(tenantId: string, actor: { type: string; id: string }): number {
    this.invalidatedAt.set(tenantId, ++this.seq);
    const prefix = `${[tenantId, actor.type, actor.id].join(SEP)}${SEP}`;
    let dropped = 0;
    for (const key of [...this.decisions.keys()]) {
      if (key.startsWith(prefix)) {
        this.decisions.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.decisions.size;
  }
}
