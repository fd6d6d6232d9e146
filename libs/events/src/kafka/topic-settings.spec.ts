import { topicSettingsFromEnv } from './topic-settings';

describe('topicSettingsFromEnv', () => {
  it('defaults to one replica and one in-sync replica (the local single broker)', () => {
    expect(topicSettingsFromEnv({})).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(
      topicSettingsFromEnv({
        KAFKA_TOPIC_REPLICATION_FACTOR: ' ',
        KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '',
      }),
    ).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });

  it('reads the production values', () => {
    expect(
      topicSettingsFromEnv({
        KAFKA_TOPIC_REPLICATION_FACTOR: '3',
        KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      }),
    ).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it.each(['0', '-1', '2.5', 'three', '1e2'])('refuses %p as a replication factor', (value) => {
    expect(() => topicSettingsFromEnv({ KAFKA_TOPIC_REPLICATION_FACTOR: value })).toThrow(
      /KAFKA_TOPIC_REPLICATION_FACTOR must be a positive integer/,
    );
  });

  it('refuses a minimum of in-sync replicas above the replication factor', () => {
    expect(() =>
      topicSettingsFromEnv({
        KAFKA_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TOPIC_MIN_INSYNC_REPLICAS: '2',
      }),
    ).toThrow(/cannot exceed/);
  });
});
