export interface RevocationListOptions {
  /** Bound on remembered ids; past it the oldest entries go first (and are counted). */
  readonly maxEntries: number;
  /** The clock (tests move it). */
  readonly now?: () => number;
}

/**
 * Ids (session ids, API-key ids) refused until an instant, in memory. Each entry is kept only
 * until the credential it blocks would have stopped working anyway, so the list stays small; a
 * hard bound protects memory from a flood of revocations.
 */
export class RevocationList {
  /** id -> refused until (epoch ms). Insertion order is roughly expiry order. */
  private readonly entries = new Map<string, number>();
  private readonly now: () => number;
  private evictedCount = 0;

  constructor(private readonly options: RevocationListOptions) {
    if (options.maxEntries < 1) throw new Error('a revocation list needs room for one entry');
    this.now = options.now ?? Date.now;
  }

  /** Refuses `id` until `untilMs`; an instant already past adds nothing. */
  add(id: string, untilMs: number): boolean {
    const now = this.now();
    if (untilMs <= now) return false;
    const previous = this.entries.get(id);
    this.entries.delete(id);
    this.entries.set(id, Math.max(untilMs, previous ?? 0));
    this.dropExpiredFromFront(now);
    if (this.entries.size > this.options.maxEntries) this.makeRoom(now);
    return true;
  }

  has(id: string): boolean {
    const until = this.entries.get(id);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.entries.delete(id);
    return false;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries dropped before their time because the list was full. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** Amortised O(1): entries mostly arrive in expiry order, so the expired ones are in front. */
  private dropExpiredFromFront(now: number): void {
    for (const [id, until] of this.entries) {
      if (until > now) return;
      this.entries.delete(id);
    }
  }

  private makeRoom(now: number): void {
    for (const [id, until] of this.entries) {
      if (until <= now) this.entries.delete(id);
    }
    // Still full: the oldest entry is the one closest to expiring anyway.
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) return;
      this.entries.delete(id);
      this.evictedCount += 1;
    }
  }
}
