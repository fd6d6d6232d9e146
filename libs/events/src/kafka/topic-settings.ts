/** Durability settings applied to every topic the platform provisions. */
export interface TopicSettings {
  readonly replicationFactor: number;
  /** With acks=all, a write needs this many in-sync replicas; keep it below the factor. */
  readonly minInsyncReplicas: number;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

/**
 * Reads KAFKA_TOPIC_REPLICATION_FACTOR and KAFKA_TOPIC_MIN_INSYNC_REPLICAS (1 and 1 by default,
 * for the single local broker; production sets 3 and 2). A minimum above the factor would make
 * every acks=all write fail, so it is refused at start rather than at the first publish.
 */
export function topicSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TopicSettings {
  const replicationFactor = positiveInteger(env, 'KAFKA_TOPIC_REPLICATION_FACTOR', 1);
  const minInsyncReplicas = positiveInteger(env, 'KAFKA_TOPIC_MIN_INSYNC_REPLICAS', 1);
  if (minInsyncReplicas > replicationFactor)
    throw new Error(
      `KAFKA_TOPIC_MIN_INSYNC_REPLICAS (${minInsyncReplicas}) cannot exceed ` +
        `KAFKA_TOPIC_REPLICATION_FACTOR (${replicationFactor})`,
    );
  return { replicationFactor, minInsyncReplicas };
}
