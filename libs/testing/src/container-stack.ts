/**
 * The integration tests' stack as containers (testcontainers), where a Docker engine answers:
 * Redis, PostgreSQL, Kafka and the schema registry, the same images and settings as
 * docker-compose.yml. Only the environment for the tests comes back; each container also goes
 * when this process exits (testcontainers' reaper), even when teardown never runs.
 *
 * Not exercised on machines without Docker (the process stack runs there instead).
 */
import net from 'node:net';
import path from 'node:path';
import type { StartedTestContainer } from 'testcontainers';

const REPO_ROOT = path.resolve(__dirname, '../../..');

/** Kept equal to docker-compose.yml's images (container-stack.spec.ts checks it). */
export const CONTAINER_IMAGES = {
  redis: 'redis:7.4',
  postgres: 'postgres:17',
  kafka: 'apache/kafka:4.4.0',
  registry: 'apicurio/apicurio-registry:3.3.3',
} as const;

export interface ContainerStack {
  /** KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_ADMIN_URL and REDIS_URL for the tests. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 240_000;

/** A free port on this machine: Kafka must advertise its host port before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startContainerStack(): Promise<ContainerStack> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const kafkaPort = await freePort();

  const redis = new GenericContainer(CONTAINER_IMAGES.redis)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/));

  const postgres = new GenericContainer(CONTAINER_IMAGES.postgres)
    .withEnvironment({
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: 'postgres',
      POSTGRES_DB: 'postgres',
      POSTGRES_INITDB_ARGS: '--encoding=UTF8 --locale=C',
    })
    .withCommand(['postgres', '-c', 'max_connections=200', '-c', 'shared_buffers=64MB'])
    .withCopyFilesToContainer([
      {
        source: path.join(REPO_ROOT, 'deploy/local/docker/provision.sql'),
        target: '/docker-entrypoint-initdb.d/10-provision.sql',
      },
    ])
    .withExposedPorts(5432)
    // The image restarts the server once after the init scripts: the second "ready" counts.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2));

  const kafka = new GenericContainer(CONTAINER_IMAGES.kafka)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      CLUSTER_ID: '4L6g3nShT-eMCtK--X86sw',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      // HOST for the tests (the fixed host port), INSIDE for the broker itself.
      KAFKA_LISTENERS: 'HOST://:9092,INSIDE://:19092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `HOST://${host}:${kafkaPort},INSIDE://localhost:19092`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'HOST:PLAINTEXT,INSIDE:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INSIDE',
      KAFKA_NUM_PARTITIONS: '3',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '10',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
    })
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(START_TIMEOUT_MS);

  // In-memory storage: the tests' schemas need not outlive the run.
  const registry = new GenericContainer(CONTAINER_IMAGES.registry)
    .withEnvironment({
      QUARKUS_HTTP_PORT: '8080',
      JAVA_OPTS_APPEND:
        '-Xmx384m -Dapicurio.rules.global.compatibility=BACKWARD -Dapicurio.rules.global.validity=FULL',
    })
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080).forStatusCode(200))
    .withStartupTimeout(START_TIMEOUT_MS);

  const results = await Promise.allSettled(
    [redis, postgres, kafka, registry].map((container) => container.start()),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((c) => c.stop()));
  };
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [r, pg, , reg] = started as [
    StartedTestContainer,
    StartedTestContainer,
    StartedTestContainer,
    StartedTestContainer,
  ];
  return {
    env: {
      KAFKA_BROKERS: `${host}:${kafkaPort}`,
      SCHEMA_REGISTRY_URL: `http://${reg.getHost()}:${reg.getMappedPort(8080)}/apis/ccompat/v7`,
      DATABASE_ADMIN_URL: `postgres://postgres:postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`,
      REDIS_URL: `redis://${r.getHost()}:${r.getMappedPort(6379)}`,
    },
    stop,
  };
}
