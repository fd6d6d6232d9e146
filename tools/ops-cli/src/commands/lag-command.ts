import type { Command } from 'commander';
import type { CommittedOffsets, GroupLag, PartitionEnds } from '../consumer-lag';
import { computeLag } from '../consumer-lag';
import { OperationFailedError } from '../exit-codes';
import { connectAdmin, kafkaClientOf } from '../kafka-admin';
import type { OpsContext } from '../ops-context';
import { configOf } from '../ops-context';
import type { Cell } from '../output';
import { formatTable, printResult } from '../output';

export function formatLag(
  groups: readonly GroupLag[],
  total: number,
  perPartition: boolean,
): string {
  if (groups.length === 0) return 'no consumer group matches';
  const rows = groups.flatMap((g): Cell[][] =>
    perPartition
      ? g.partitions.map((p) => [g.groupId, p.topic, p.partition, p.committed, p.end, p.lag])
      : [[g.groupId, '*', '*', undefined, undefined, g.lag]],
  );
  return `${formatTable(['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'], rows)}\ntotal lag: ${total}`;
}

/** `consumer lag`: committed offsets of each consumer group against the topics' high watermarks. */
export function registerLagCommand(program: Command, context: OpsContext): void {
  program
    .command('consumer')
    .description("consumer groups' progress")
    .command('lag')
    .description(
      'committed offsets vs high watermarks, per group, topic and partition, with the total',
    )
    .option('--group <prefix>', 'only groups whose id starts with this')
    .option('--topic <topic>', 'only this topic')
    .option('--summary', 'one line per group instead of one per partition')
    .action(
      async (options: { group?: string; topic?: string; summary?: boolean }, command: Command) => {
        const config = configOf(context, command);
        const admin = await connectAdmin(kafkaClientOf(config), config);
        try {
          const { groups } = await admin.listGroups();
          const ids = groups
            .map((g) => g.groupId)
            .filter((id) => !options.group || id.startsWith(options.group))
            .sort();
          const committed: CommittedOffsets[] = [];
          for (const groupId of ids) {
            const topics = await admin.fetchOffsets({
              groupId,
              ...(options.topic ? { topics: [options.topic] } : {}),
            });
            committed.push({ groupId, topics });
          }
          const topicNames = new Set(committed.flatMap((g) => g.topics.map((t) => t.topic)));
          const existing = new Set(await admin.listTopics());
          const ends = new Map<string, PartitionEnds[]>();
          for (const topic of topicNames) {
            // A group may still hold offsets of a topic deleted since.
            if (existing.has(topic)) ends.set(topic, await admin.fetchTopicOffsets(topic));
          }
          const lag = computeLag(committed, ends);
          printResult(context.io, config.json, lag, () =>
            formatLag(lag.groups, lag.total, !options.summary),
          );
          if (options.group && ids.length === 0) {
            throw new OperationFailedError(`no consumer group starts with ${options.group}`);
          }
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
    );
}
