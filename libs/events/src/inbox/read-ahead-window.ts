/** One fetched message of a partition, from its fetch until the committed offset passes it. */
interface WindowEntry<E> {
  readonly offset: string;
  readonly bytes: number;
  settled: boolean;
  /** Pending work: absent for a message settled when it was fetched (ignored, dead-lettered). */
  readonly event?: E;
}

/** A fetched batch, reported once every event of it and before it is settled. */
export interface SettledBatch {
  readonly size: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  /** From its fetch until then, ms. */
  readonly durationMs: number;
}

interface BatchMark {
  readonly lastSeq: number;
  readonly size: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly fetchedAt: number;
}

/**
 * What one partition's consumer has fetched ahead of its committed offset: every message in
 * offset order (settled or not), and the pending events queued per tenant. `round` hands out the
 * next round of work (one group per tenant, tenants in the order of their oldest pending event);
 * `advance` moves the settled prefix, which is what may be committed.
 */
export class ReadAheadWindow<E> {
  private entries: WindowEntry<E>[] = [];
  /** Sequence number of `entries[0]`: events are addressed by sequence number, never index. */
  private base = 0;
  /** Index in `entries` of the first unsettled message (the committed offset's next). */
  private head = 0;
  /** Pending sequence numbers per tenant; map order is the order of their oldest pending one. */
  private readonly queues = new Map<string, number[]>();
  private readonly marks: BatchMark[] = [];
  private pendingCount = 0;
  /** Bytes of the messages not yet behind the settled prefix. */
  bytes = 0;
  /** Last fetched offset; a refetch of it or of anything before it is ignored. */
  lastOffset: string | undefined;
  /** Set when the partition is revoked or the consumer stops: no more rounds. */
  closed = false;

  get pending(): number {
    return this.pendingCount;
  }

  /** The sequence number the next `add` gets. */
  get nextSeq(): number {
    return this.base + this.entries.length;
  }

  /** True when the offset was fetched into this window already. */
  has(offset: string): boolean {
    return this.lastOffset !== undefined && BigInt(offset) <= BigInt(this.lastOffset);
  }

  /**
   * Appends one fetched message; `pending` is its event and tenant when it has work left. Returns
   * its sequence number.
   */
  add(offset: string, bytes: number, pending?: { event: E; tenant: string }): number {
    const seq = this.base + this.entries.length;
    this.entries.push({
      offset,
      bytes,
      settled: !pending,
      ...(pending ? { event: pending.event } : {}),
    });
    this.bytes += bytes;
    this.lastOffset = offset;
    if (pending) {
      this.pendingCount += 1;
      const queue = this.queues.get(pending.tenant);
      if (queue) queue.push(seq);
      else this.queues.set(pending.tenant, [seq]);
    }
    return seq;
  }

  /** Marks the end of one fetched batch (the messages added since the last mark). */
  markBatch(firstOffset: string, size: number, fetchedAt: number): void {
    if (this.lastOffset === undefined) return;
    this.marks.push({
      lastSeq: this.base + this.entries.length - 1,
      size,
      firstOffset,
      lastOffset: this.lastOffset,
      fetchedAt,
    });
  }

  /**
   * The next round: up to `groupSize` of the oldest pending events of every tenant that has some,
   * tenants in the order of their oldest pending event. Each tenant's events keep their order.
   */
  round(groupSize: number): E[][] {
    const groups: E[][] = [];
    for (const queue of this.queues.values()) {
      const group: E[] = [];
      for (let i = 0; i < queue.length && group.length < groupSize; i += 1) {
        group.push(this.entry(queue[i] as number).event as E);
      }
      groups.push(group);
    }
    return groups;
  }

  settle(seq: number, tenant: string): void {
    const entry = this.entry(seq);
    if (entry.settled) return;
    entry.settled = true;
    this.pendingCount -= 1;
    const queue = this.queues.get(tenant);
    if (!queue) return;
    // Groups settle from their tenant's oldest event on, so the settled ones are at the front.
    let drop = 0;
    while (drop < queue.length && this.entry(queue[drop] as number).settled) drop += 1;
    if (drop === queue.length) this.queues.delete(tenant);
    else if (drop > 0) queue.splice(0, drop);
  }

  /**
   * Moves the settled prefix over every settled message at its front. Returns the offset of the
   * last one it passed (the commit is the next offset), or undefined when it did not move, and
   * the fetched batches it completed.
   */
  advance(now: number): { offset: string | undefined; batches: SettledBatch[] } {
    const start = this.head;
    while (this.head < this.entries.length && (this.entries[this.head] as WindowEntry<E>).settled) {
      this.bytes -= (this.entries[this.head] as WindowEntry<E>).bytes;
      this.head += 1;
    }
    if (this.head === start) return { offset: undefined, batches: [] };
    const offset = (this.entries[this.head - 1] as WindowEntry<E>).offset;
    const settledSeq = this.base + this.head - 1;
    const batches: SettledBatch[] = [];
    while (this.marks.length > 0 && (this.marks[0] as BatchMark).lastSeq <= settledSeq) {
      const mark = this.marks.shift() as BatchMark;
      batches.push({
        size: mark.size,
        firstOffset: mark.firstOffset,
        lastOffset: mark.lastOffset,
        durationMs: now - mark.fetchedAt,
      });
    }
    // Drop what is behind the prefix now and then, not on every call (a splice is O(n)).
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries.splice(0, this.head);
      this.base += this.head;
      this.head = 0;
    }
    return { offset, batches };
  }

  private entry(seq: number): WindowEntry<E> {
    return this.entries[seq - this.base] as WindowEntry<E>;
  }
}
