import type { Kafka } from 'kafkajs';
import { dlqTopicOf } from '../inbox/dead-letter';
import type { TopicSettings } from './topic-settings';
import { topicSettingsFromEnv } from './topic-settings';

export interface TopicDeclaration {
  /** `<domain>.<kind>`, e.g. `identity.events`. */
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs?: number;
  /** Also provision `<name>.dlq` (kept longer, same partitions so per-key order holds). */
  readonly deadLetter?: boolean;
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Creates the declared topics (and their DLQs) that do not exist yet; returns those created.
 * Replication and min.insync.replicas come from the environment (see topicSettingsFromEnv).
 * Existing topics are left as they are: changing replication is a reassignment, not a create.
 */
export async function provisionTopics(
  kafka: Kafka,
  declarations: readonly TopicDeclaration[],
  settings: TopicSettings = topicSettingsFromEnv(),
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = declarations.flatMap((topic) => [
      {
        topic: topic.name,
        partitions: topic.partitions,
        retentionMs: topic.retentionMs ?? WEEK_MS,
      },
      ...(topic.deadLetter === false
        ? []
        : [
            {
              topic: dlqTopicOf(topic.name),
              partitions: topic.partitions,
              retentionMs: 4 * WEEK_MS,
            },
          ]),
    ]);
    const missing = wanted.filter((topic) => !existing.has(topic.topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.topic,
        numPartitions: topic.partitions,
        replicationFactor: settings.replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(topic.retentionMs) },
          { name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) },
        ],
      })),
    });
    return missing.map((topic) => topic.topic);
  } finally {
    await admin.disconnect();
  }
}
