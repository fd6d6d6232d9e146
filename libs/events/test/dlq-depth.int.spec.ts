import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { createMetrics } from '@tenantry/observability';
import { testStackEnv } from '@tenantry/testing';
import { DlqDepthMonitor, createKafkaClient, dlqTopicOf, provisionTopics } from '../src';
import { sendToDeadLetterTopic } from '../src/inbox/dead-letter';

describe('DLQ depth', () => {
  const env = testStackEnv();
  const kafka = createKafkaClient({ clientId: 'dlq-depth-test', brokers: env.kafkaBrokers });

  it('reports the entries each dead-letter topic holds, over its partitions', async () => {
    const topic = `dlqdepth${randomBytes(4).toString('hex')}.events`;
    const quiet = `dlqdepth${randomBytes(4).toString('hex')}.events`;
    await provisionTopics(kafka, [
      { name: topic, partitions: 3 },
      { name: quiet, partitions: 1 },
    ]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      const message: KafkaMessage = {
        key: Buffer.from(`tenant-${i}:k`),
        value: Buffer.from('{}'),
        timestamp: String(Date.now()),
        attributes: 0,
        offset: String(i),
        headers: { ce_id: `e-${i}`, ce_tenantid: `tenant-${i}` },
      };
      await sendToDeadLetterTopic(producer, {
        topic,
        partition: 0,
        message,
        consumer: 'ledger',
        error: new Error('refused'),
        attempts: 1,
      });
    }
    await producer.disconnect();

    const metrics = createMetrics('dlq-depth-test');
    const monitor = new DlqDepthMonitor({
      kafka,
      registry: metrics.registry,
      topics: [dlqTopicOf(topic), dlqTopicOf(quiet)],
      intervalMs: 60_000,
    });
    await monitor.sample();
    const values = (await metrics.registry.getSingleMetric('dlq_depth')?.get())?.values ?? [];
    const depth = (t: string): number | undefined =>
      values.find((v) => v.labels.topic === dlqTopicOf(t))?.value;
    expect(depth(topic)).toBe(5);
    expect(depth(quiet)).toBe(0);
    await monitor.stop();
  });
});
