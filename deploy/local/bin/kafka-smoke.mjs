#!/usr/bin/env node
// Proves that the running Kafka works with kafkajs the way the platform uses it:
// admin (create topic, metadata, offsets), idempotent producer with acks=-1, a transactional
// producer, a consumer group that reads and commits offsets, and the committed offsets as seen by
// the admin API. Exits 0 on success, 1 with the failing step otherwise.
//
//   node deploy/local/bin/kafka-smoke.mjs [--brokers host:port,...] [--profile dev] [--verbose]
// Brokers: --brokers, else env KAFKA_BROKERS, else .stack/<profile>/stack.json, else 127.0.0.1:9092.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, CompressionTypes, Partitioners } from 'kafkajs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

function brokerList() {
  const explicit = arg('brokers') ?? process.env.KAFKA_BROKERS;
  if (explicit)
    return explicit
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const profile = arg('profile') ?? 'dev';
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, '.stack', profile, 'stack.json'), 'utf8'))
      .kafkaBrokers;
  } catch {
    return ['127.0.0.1:9092'];
  }
}

let step = 'init';
const t0 = Date.now();
const say = (msg) => console.log(`[kafka-smoke +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
const withTimeout = (p, ms, what) =>
  Promise.race([
    p,
    new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout after ${ms}ms: ${what}`)), ms)),
  ]);

async function main() {
  const brokers = brokerList();
  const run = crypto.randomBytes(4).toString('hex');
  const topic = `smoke.events-${run}`;
  const groupId = `smoke-group-${run}`;
  // kafkajs logs retriable errors (coordinator loading on a fresh broker) at ERROR; --verbose shows them.
  const kafka = new Kafka({
    clientId: `kafka-smoke-${run}`,
    brokers,
    logLevel: argv.includes('--verbose') ? logLevel.INFO : logLevel.NOTHING,
  });
  const admin = kafka.admin();

  step = 'admin connect';
  await admin.connect();
  const cluster = await admin.describeCluster();
  say(
    `connected to ${brokers.join(',')}: ${cluster.brokers.length} broker(s), controller ${cluster.controller}, cluster ${cluster.clusterId}`,
  );

  step = 'create topic';
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  if (!created) throw new Error('createTopics returned false (topic existed?)');
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  say(`created ${topic} with ${meta.topics[0].partitions.length} partitions`);

  step = 'auto-create disabled';
  const probeTopic = `smoke.absent-${run}`;
  const p0 = kafka.producer({
    allowAutoTopicCreation: true,
    retry: { retries: 1 },
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await p0.connect();
  let autoCreated = true;
  try {
    await withTimeout(
      p0.send({ topic: probeTopic, messages: [{ value: 'x' }] }),
      15000,
      'send to absent topic',
    );
  } catch {
    autoCreated = false;
  }
  await p0.disconnect();
  const topicsNow = await admin.listTopics();
  if (autoCreated || topicsNow.includes(probeTopic))
    throw new Error('broker auto-created a topic (auto.create.topics.enable should be false)');
  say('producing to an absent topic fails (auto.create.topics.enable=false)');

  step = 'idempotent producer';
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const N = 30;
  const messages = Array.from({ length: N }, (_, i) => ({
    key: `tenant-${i % 3}`,
    value: JSON.stringify({ i, run }),
    headers: {
      tenantid: `tenant-${i % 3}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  }));
  const res = await producer.send({
    topic,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages,
  });
  say(
    `idempotent producer (acks=-1) wrote ${N} messages: ${res.map((r) => `p${r.partition}@${r.baseOffset}`).join(' ')}`,
  );
  await producer.disconnect();

  step = 'transactional producer';
  const tx = kafka.producer({
    transactionalId: `smoke-tx-${run}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await tx.connect();
  const t = await tx.transaction();
  await t.send({
    topic,
    acks: -1,
    messages: [{ key: 'tenant-0', value: JSON.stringify({ i: N, run, tx: true }) }],
  });
  await t.commit();
  await tx.disconnect();
  say('transactional producer committed 1 message');

  step = 'consumer group';
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = new Set();
  const perKeyOrder = new Map();
  const nextOffset = new Map(); // partition -> offset to commit
  const done = new Promise((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const body = JSON.parse(message.value.toString());
          const key = message.key.toString();
          const last = perKeyOrder.get(key) ?? -1;
          if (body.i <= last) reject(new Error(`out of order for ${key}: ${body.i} after ${last}`));
          perKeyOrder.set(key, body.i);
          seen.add(body.i);
          // Commit after handling, as the inbox pattern does.
          const next = (BigInt(message.offset) + 1n).toString();
          await consumer.commitOffsets([{ topic, partition, offset: next }]);
          nextOffset.set(partition, next);
          if (seen.size === N + 1) resolve();
        },
      })
      .catch(reject);
  });
  await withTimeout(done, 60000, `consume ${N + 1} messages`);
  say(`consumer group ${groupId} read ${seen.size} messages in key order and committed offsets`);
  await consumer.disconnect();
  say('consumer disconnected (left the group)');

  step = 'committed offsets';
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  for (const p of offsets[0].partitions) {
    const expected = nextOffset.get(p.partition) ?? '-1';
    if (p.offset !== expected)
      throw new Error(`partition ${p.partition}: committed ${p.offset}, expected ${expected}`);
  }
  say(
    `group offsets as committed: ${offsets[0].partitions.map((p) => `p${p.partition}=${p.offset}`).join(' ')}`,
  );

  // Admin calls that tooling (DLQ replay, lag metrics) relies on: each uses its own protocol API,
  // and Kafka 4 removed the oldest versions of many (KIP-896).
  step = 'admin APIs';
  const groups = await admin.listGroups();
  if (!groups.groups.some((g) => g.groupId === groupId))
    throw new Error('listGroups misses the group');
  const described = await admin.describeGroups([groupId]);
  if (described.groups[0].state !== 'Empty')
    throw new Error(`group state ${described.groups[0].state}`);
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] });
  await admin.resetOffsets({ groupId, topic, earliest: true });
  say('admin: listGroups, describeGroups, setOffsets, resetOffsets ok');
  const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60000);
  if (byTime.length !== 3) throw new Error('fetchTopicOffsetsByTimestamp');
  const configs = await admin.describeConfigs({
    resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }],
    includeSynonyms: false,
  });
  if (!configs.resources[0].configEntries.length) throw new Error('describeConfigs');
  await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '-1' }] });
  say('admin: offsets by timestamp, describeConfigs, createPartitions, deleteRecords ok');

  step = 'cleanup';
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  say('OK');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[kafka-smoke] FAILED at step "${step}": ${err?.stack ?? err}`);
    process.exit(1);
  },
);
