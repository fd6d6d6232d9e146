export interface CommittedOffsets {
  readonly groupId: string;
  readonly topics: readonly {
    readonly topic: string;
    readonly partitions: readonly { readonly partition: number; readonly offset: string }[];
  }[];
}

export interface PartitionEnds {
  readonly partition: number;
  readonly high: string;
  readonly low: string;
}

export interface PartitionLag {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** null: the group has not committed on this partition. */
  readonly committed: number | null;
  readonly end: number;
  readonly lag: number;
}

export interface GroupLag {
  readonly groupId: string;
  readonly lag: number;
  readonly partitions: PartitionLag[];
}

/**
 * Lag per partition: high watermark minus committed offset. A partition with no commit counts
 * everything still retained (high minus low), which is what the group would read from the start.
 */
export function computeLag(
  groups: readonly CommittedOffsets[],
  ends: ReadonlyMap<string, readonly PartitionEnds[]>,
): { groups: GroupLag[]; total: number } {
  const result = groups.map(({ groupId, topics }) => {
    const partitions: PartitionLag[] = [];
    for (const { topic, partitions: committed } of topics) {
      const byPartition = new Map(committed.map((p) => [p.partition, Number(p.offset)]));
      for (const { partition, high, low } of ends.get(topic) ?? []) {
        const offset = byPartition.get(partition);
        const hasCommit = offset !== undefined && offset >= 0;
        const end = Number(high);
        const lag = Math.max(0, end - (hasCommit ? offset : Number(low)));
        partitions.push({
          groupId,
          topic,
          partition,
          committed: hasCommit ? offset : null,
          end,
          lag,
        });
      }
    }
    partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return { groupId, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions };
  });
  result.sort((a, b) => a.groupId.localeCompare(b.groupId));
  return { groups: result, total: result.reduce((sum, g) => sum + g.lag, 0) };
}
