/** The label of a request from a tenant outside the current top, and of one with no tenant. */
export const OTHER_TENANTS = 'other';
export const NO_TENANT = 'none';

export interface TopTenantsOptions {
  /** Tenants named by their id (default 10, env METRICS_TOP_TENANTS). */
  readonly top?: number;
  /** Tenants tracked at once (default 10 × top): the Space-Saving table's size. */
  readonly tracked?: number;
  /** How often the named set is recomputed and the counts halved (default 60 s). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/**
 * A bounded `tenant` metric label: a tenant among the `top` busiest recently is named by its id,
 * every other is `other`, so a metric keeps at most `top + 1` tenant series per window while the
 * tenants an SRE asks about (the noisy ones) are visible by name. Counting is Space-Saving
 * (Metwally et al., 2005) over a table of `tracked` tenants: a new tenant in a full table takes
 * the least-counted one's place and inherits its count, so a heavy hitter is never missed. Every
 * window the counts halve (recent traffic weighs most) and the named set is recomputed; between
 * recomputations a label is one map lookup.
 */
export class TopTenants {
  private readonly top: number;
  private readonly tracked: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly counts = new Map<string, number>();
  private named = new Set<string>();
  private windowStart: number;

  constructor(options: TopTenantsOptions = {}) {
    this.top = Math.max(0, options.top ?? 10);
    this.tracked = Math.max(this.top, options.tracked ?? this.top * 10);
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.windowStart = this.now();
  }

  /** Counts one request of `tenantId` and returns its label. */
  observe(tenantId: string | undefined): string {
    if (!tenantId) return NO_TENANT;
    if (this.top === 0) return OTHER_TENANTS;
    this.count(tenantId);
    const now = this.now();
    // The first window names tenants as they come, so a fresh process is not all "other".
    if (now - this.windowStart >= this.windowMs) this.rollWindow(now);
    else if (this.named.size < this.top && !this.named.has(tenantId)) this.recompute();
    return this.named.has(tenantId) ? tenantId : OTHER_TENANTS;
  }

  /** The tenants named now, busiest first. */
  namedTenants(): string[] {
    return [...this.named];
  }

  private count(tenantId: string): void {
    const current = this.counts.get(tenantId);
    if (current !== undefined) {
      this.counts.set(tenantId, current + 1);
      return;
    }
    if (this.counts.size < this.tracked) {
      this.counts.set(tenantId, 1);
      return;
    }
    let least: string | undefined;
    let leastCount = Number.POSITIVE_INFINITY;
    for (const [tenant, n] of this.counts) {
      if (n < leastCount) {
        least = tenant;
        leastCount = n;
      }
    }
    if (least !== undefined) this.counts.delete(least);
    this.counts.set(tenantId, leastCount + 1);
  }

  private rollWindow(now: number): void {
    this.recompute();
    for (const [tenant, n] of this.counts) {
      const halved = Math.floor(n / 2);
      if (halved === 0) this.counts.delete(tenant);
      else this.counts.set(tenant, halved);
    }
    this.windowStart = now;
  }

  private recompute(): void {
    this.named = new Set(
      [...this.counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, this.top)
        .map(([tenant]) => tenant),
    );
  }
}
