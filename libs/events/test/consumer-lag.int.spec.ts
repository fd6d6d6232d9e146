import { randomBytes } from 'node:crypto';
import { createMetrics } from '@tenantry/observability';
import { testStackEnv } from '@tenantry/testing';
import { ConsumerLagMonitor, createKafkaClient, provisionTopics } from '../src';

describe('consumer lag from the broker', () => {
  const env = testStackEnv();
  const kafka = createKafkaClient({ clientId: 'consumer-lag-test', brokers: env.kafkaBrokers });

  it('is the high watermark minus the committed offset, for a group with no member at all', async () => {
    const topic = `lag${randomBytes(4).toString('hex')}.events`;
    const group = `lag-${randomBytes(4).toString('hex')}`;
    await provisionTopics(kafka, [{ name: topic, partitions: 2, deadLetter: false }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `p0-${i}` })),
        ...Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `p1-${i}` })),
      ],
    });
    await producer.disconnect();
    // The group got 3 events of partition 0 done, then died: nobody fetches, nothing updates.
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }] });
    await admin.disconnect();

    const metrics = createMetrics('consumer-lag-test');
    const monitor = new ConsumerLagMonitor({
      kafka,
      gauge: metrics.consumerLag,
      groups: new Map([[group, [topic]]]),
      intervalMs: 60_000,
    });
    await monitor.sample();
    const values = (await metrics.consumerLag.get()).values;
    const lagOf = (partition: string): number | undefined =>
      values.find((v) => v.labels.consumer === group && v.labels.partition === partition)?.value;
    expect(lagOf('0')).toBe(4);
    // Nothing committed on partition 1: all of it is still to do.
    expect(lagOf('1')).toBe(4);
    await monitor.stop();
  });
});
