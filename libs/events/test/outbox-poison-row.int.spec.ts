import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import { PrivateKafka, waitFor } from '@tenantry/testing';
import { retrySetAside } from '../src';
import { RelayTestBed } from './support/relay-test-bed';

const LIMIT_BYTES = 10 * 1024;

describe('a poison outbox row (larger than the topic accepts)', () => {
  let bed: RelayTestBed;

  beforeAll(async () => {
    bed = await new RelayTestBed().setUp({
      topicConfig: { 'max.message.bytes': String(LIMIT_BYTES) },
      relay: { pollIntervalMs: 200, maxRefusals: 3 },
    });
    await bed.startReader();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it('is set aside after bounded refusals, recorded, counted and logged; the rows behind it flow', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const keyA = `${tenant}:cart-a`;
    const keyB = `${tenant}:cart-b`;
    // One transaction, so the relay meets all five rows in one batch, poison in the middle.
    const ids = await withOneTransaction(bed, tenant, [
      { orderId: 'a-1', key: keyA },
      { orderId: 'b-1', key: keyB },
      { orderId: 'a-poison', key: keyA, note: 'x'.repeat(50 * LIMIT_BYTES) },
      { orderId: 'a-2', key: keyA },
      { orderId: 'b-2', key: keyB },
    ]);
    const poisonId = ids[2]!;

    await waitFor('the four good rows', () => bed.received.length >= 4, { timeoutMs: 20_000 });
    const perKey = (key: string): string[] =>
      bed.received.filter((r) => r.key === key).map((r) => r.orderId);
    expect(perKey(keyA)).toEqual(['a-1', 'a-2']);
    expect(perKey(keyB)).toEqual(['b-1', 'b-2']);
    // a-2 waited behind its key's refused row until that row was set aside; b-2 did not wait.
    expect(bed.received.map((r) => r.orderId).indexOf('a-2')).toBe(3);

    const poison = await waitFor('the poison row set aside', async () =>
      (await bed.rows()).find((r) => r.id === poisonId && r.status === 'set_aside'),
    );
    expect(poison.refusals).toBe(3);
    expect(poison.attempts).toBe(3);
    expect(poison.last_error).toMatch(/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
    const others = (await bed.rows()).filter((r) => r.id !== poisonId);
    expect(others.map((r) => r.status)).toEqual([
      'published',
      'published',
      'published',
      'published',
    ]);

    expect(await bed.counterValue('outbox_set_aside_total')).toBe(1);
    expect(await bed.relay.backlog()).toBe(0);
    const gauge = await bed.metrics.outboxBacklog.get();
    expect(gauge.values[0]?.value).toBe(0);
    const warning = bed.logs.find((l) => l.message.startsWith('outbox row set aside'));
    expect(warning).toMatchObject({
      level: 'warn',
      meta: {
        event_id: poisonId,
        event_type: bed.catalogue.orderPlaced.type,
        tenant_id: tenant,
        topic: bed.catalogue.topic,
      },
    });

    // Once the cause is fixed, the operator puts it back; it arrives late (after a-2).
    const admin = bed.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: bed.catalogue.topic,
          configEntries: [{ name: 'max.message.bytes', value: String(2 * 1024 * 1024) }],
        },
      ],
    });
    await admin.disconnect();
    expect(await retrySetAside(bed.dataSource, [poisonId, randomUUID()])).toEqual([poisonId]);
    await waitFor('the retried row', () => bed.received.length >= 5, { timeoutMs: 20_000 });
    expect(perKey(keyA)).toEqual(['a-1', 'a-2', 'a-poison']);
    expect((await bed.rows()).find((r) => r.id === poisonId)?.status).toBe('published');
  });
});

// Stops the broker, so it runs against a private one, not the suite's shared broker.
describe('with the broker down', () => {
  const kafka = new PrivateKafka('relayfaults', 23592);
  let bed: RelayTestBed;

  beforeAll(async () => {
    await kafka.start();
    // One refusal would be enough to set a row aside: an outage must never count as one.
    bed = await new RelayTestBed(kafka.brokers).setUp({
      relay: { pollIntervalMs: 200, maxRefusals: 1 },
    });
  });

  afterAll(async () => {
    await kafka.start().catch(() => undefined);
    await bed?.tearDown();
    await kafka.stop();
  });

  it('records the failures, keeps retrying and sets nothing aside', async () => {
    const tenant = `tenant-${randomUUID()}`;
    await bed.write(tenant, { orderId: 'before' });
    await waitFor('the first row published', async () =>
      (await bed.rows()).every((r) => r.status === 'published'),
    );

    await kafka.stop();
    // A send to a dead broker fails only after kafkajs' own retries (8, doubling from 200 ms:
    // about 50 s in all), so the first recorded failure can take that long on a busy machine.
    const slowFailure = { timeoutMs: 90_000, intervalMs: 200 };
    await bed.write(tenant, { orderId: 'during-1' });
    await waitFor(
      'the first send failure recorded',
      async () => (await bed.rows())[1]?.last_error != null,
      slowFailure,
    );
    // Written after the relay's producer lost the broker: its next passes fail at connecting,
    // which must be recorded on these rows as well.
    for (const orderId of ['during-2', 'during-3']) await bed.write(tenant, { orderId });
    const failing = await waitFor(
      'send failures recorded on the waiting rows',
      async () => {
        const rows = (await bed.rows()).slice(1);
        return rows.every((r) => r.last_error !== null) ? rows : undefined;
      },
      slowFailure,
    );
    expect(failing.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);
    expect(failing.every((r) => r.attempts >= 1 && r.refusals === 0)).toBe(true);
    expect(await bed.relay.backlog()).toBe(3);
    const gauge = async (): Promise<number | undefined> =>
      (await bed.metrics.outboxOldestAgeSeconds.get()).values[0]?.value;
    // What an SRE's "outbox stuck" alert reads: the oldest waiting row keeps getting older.
    await waitFor('the oldest row’s age reported', async () => ((await gauge()) ?? 0) > 0.5);

    await kafka.start();
    await waitFor(
      'every row published after the outage',
      async () => (await bed.rows()).every((r) => r.status === 'published'),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor('the age back to 0', async () => (await gauge()) === 0, { timeoutMs: 30_000 });
    expect(await bed.counterValue('outbox_set_aside_total')).toBe(0);
    expect(bed.logs.some((l) => l.message.startsWith('outbox row set aside'))).toBe(false);
  }, 300_000);
});

async function withOneTransaction(
  bed: RelayTestBed,
  tenant: string,
  orders: { orderId: string; key: string; note?: string }[],
): Promise<string[]> {
  return bed.writeMany(
    tenant,
    orders.map((o) => ({ data: { orderId: o.orderId, note: o.note ?? '' }, key: o.key })),
  );
}
