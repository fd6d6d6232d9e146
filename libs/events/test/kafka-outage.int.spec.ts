import { randomUUID } from 'node:crypto';
import { PrivateKafka, waitFor } from '@tenantry/testing';
import { OrderTestService } from './support/order-service';

// Stops and restarts a broker, so it runs against a private one, not the suite's shared broker.
describe('with Kafka down while events are written', () => {
  const kafka = new PrivateKafka('outage', 21092);
  let service: OrderTestService;

  beforeAll(async () => {
    await kafka.start();
    service = await new OrderTestService({ kafkaBrokers: kafka.brokers }).setUp();
  });

  afterAll(async () => {
    await kafka.start().catch(() => undefined);
    await service?.tearDown();
    await kafka.stop();
  });

  it('delivers every event after Kafka comes back, in order per key', async () => {
    const tenant = `tenant-${randomUUID()}`;
    await service.placeOrder(tenant, { orderId: 'before-outage', totalCents: 1 });
    await waitFor('the first order', async () => (await service.ledger(tenant)).length === 1);

    await kafka.stop();
    const keys = ['cart-a', 'cart-b', 'cart-c'];
    for (let sequence = 1; sequence <= 10; sequence += 1) {
      for (const key of keys) {
        await service.placeOrder(
          tenant,
          { orderId: `${key}-${sequence}`, totalCents: sequence },
          { key: `${tenant}:${key}` },
        );
      }
    }
    // Nothing can be published while the broker is down: all 30 wait in the outbox.
    expect(await service.relay.backlog()).toBe(30);

    await kafka.start();
    const ledger = await waitFor(
      'all 31 orders',
      async () => {
        const rows = await service.ledger(tenant);
        return rows.length >= 31 ? rows : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(ledger).toHaveLength(31);
    for (const key of keys) {
      const sequenceSeen = ledger
        .filter((row) => row.order_id.startsWith(`${key}-`))
        .map((row) => Number(row.total_cents));
      expect(sequenceSeen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    expect(await service.relay.backlog()).toBe(0);
  });
});
