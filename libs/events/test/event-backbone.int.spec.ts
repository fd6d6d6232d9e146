import { randomUUID } from 'node:crypto';
import { DeadLetterReplayer, OutboxRelay } from '../src';
import { waitFor } from '@tenantry/testing';
import { OrderTestService } from './support/order-service';

describe('event backbone: outbox -> Kafka -> inbox', () => {
  let service: OrderTestService;

  beforeAll(async () => {
    service = await new OrderTestService().setUp();
  });

  afterAll(async () => {
    await service?.tearDown();
  });

  it('publishes a committed transaction’s event exactly once and a rolled-back one never', async () => {
    const tenant = `tenant-${randomUUID()}`;
    await expect(
      service.placeOrder(tenant, { orderId: 'rolled-back' }, { failAfterWrite: true }),
    ).rejects.toThrow('business rule');
    const committed = await service.placeOrder(tenant, { orderId: 'committed', totalCents: 4200 });
    // A later order from the same tenant and key proves the consumer has moved past both.
    await service.placeOrder(tenant, { orderId: 'marker' });

    const ledger = await waitFor('both committed orders in the ledger', async () => {
      const rows = await service.ledger(tenant);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(ledger.map((row) => row.order_id).sort()).toEqual(['committed', 'marker']);
    expect(ledger.find((row) => row.order_id === committed.orderId)?.total_cents).toBe('4200');

    const [outboxRows] = await service.producer.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE tenant_id = $1`,
      [tenant],
    );
    expect(outboxRows.n).toBe(2);
  });

  it('keeps per-key order and publishes each event once with two relays on one outbox', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const second = new OutboxRelay({
      dataSource: service.producer,
      kafka: service.kafka,
      pollIntervalMs: 50,
      batchSize: 7,
    });
    await second.start();
    try {
      const duplicatesBefore = service.outcomes.filter((o) => o.outcome === 'duplicate').length;
      for (let sequence = 1; sequence <= 40; sequence += 1) {
        await service.placeOrder(
          tenant,
          { orderId: `o-${sequence}`, totalCents: sequence },
          { key: `${tenant}:one-cart` },
        );
      }
      const ledger = await waitFor('all 40 orders', async () => {
        const rows = await service.ledger(tenant);
        return rows.length >= 40 ? rows : undefined;
      });
      expect(ledger.map((row) => Number(row.total_cents))).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      expect(service.outcomes.filter((o) => o.outcome === 'duplicate').length).toBe(
        duplicatesBefore,
      );
    } finally {
      await second.stop();
    }
  });

  it('changes state once when the same event is delivered again', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const order = await service.placeOrder(tenant, { orderId: 'once' });
    await waitFor('order in the ledger', async () => (await service.ledger(tenant)).length === 1);
    const [event] = await service.producer.query(
      `SELECT id FROM event_outbox WHERE tenant_id = $1`,
      [tenant],
    );

    // Re-produce the very same event (same id), as a relay crash after Kafka's ack would.
    await service.producer.query(`UPDATE event_outbox SET published_at = NULL WHERE id = $1`, [
      event.id,
    ]);
    await waitFor('the duplicate to be seen', () =>
      service.outcomes.some((o) => o.outcome === 'duplicate' && o.eventId === event.id),
    );
    expect(await service.ledger(tenant)).toHaveLength(1);
    expect(order.orderId).toBe('once');
    const inboxMetric =
      await service.metrics.registry.getSingleMetricAsString('inbox_processed_total');
    expect(inboxMetric).toMatch(/outcome="duplicate"[^\n]*\s[1-9]/);
  });

  it('changes state once when a consumer restarts before committing its offsets', async () => {
    const tenant = `tenant-${randomUUID()}`;
    await service.placeOrder(tenant, { orderId: 'before-restart' });
    await waitFor('order in the ledger', async () => (await service.ledger(tenant)).length === 1);

    // Rewind the group to the start, as a restart before the offset commit would find it.
    await service.inbox.stop();
    const duplicatesBefore = service.outcomes.filter((o) => o.outcome === 'duplicate').length;
    const admin = service.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({
      groupId: `${service.domain}-ledger`,
      topic: service.catalogue.topic,
      earliest: true,
    });
    await admin.disconnect();
    await service.startConsumer();

    await waitFor(
      'every earlier event redelivered and skipped',
      () => service.outcomes.filter((o) => o.outcome === 'duplicate').length > duplicatesBefore,
    );
    await service.placeOrder(tenant, { orderId: 'after-restart' });
    const ledger = await waitFor('the new order', async () => {
      const rows = await service.ledger(tenant);
      return rows.some((row) => row.order_id === 'after-restart') ? rows : undefined;
    });
    expect(ledger.map((row) => row.order_id)).toEqual(['before-restart', 'after-restart']);
  });

  it('dead-letters a poison event with its error and metadata, keeps flowing, and replays it', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const key = `${tenant}:shared`;
    await service.placeOrder(
      tenant,
      { orderId: 'poisoned', note: 'poison' },
      { actorId: 'alice', key },
    );
    await service.placeOrder(tenant, { orderId: 'healthy' }, { actorId: 'alice', key });

    await waitFor('the healthy order after the poison one', async () =>
      (await service.ledger(tenant)).some((row) => row.order_id === 'healthy'),
    );
    const replayer = new DeadLetterReplayer(service.kafka);
    const entries = await waitFor('the DLQ entry', async () => {
      const all = await replayer.list(service.catalogue.topic);
      const mine = all.filter((entry) => entry.tenantId === tenant);
      return mine.length > 0 ? mine : undefined;
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      eventType: service.catalogue.orderPlaced.type,
      tenantId: tenant,
      consumer: `${service.domain}-ledger`,
      originalTopic: service.catalogue.topic,
      attempts: 2,
    });
    expect(entries[0]?.reason).toContain('poison note');
    const dlqMetric = await service.metrics.registry.getSingleMetricAsString('dlq_events_total');
    expect(dlqMetric).toContain(`topic="${service.catalogue.topic}"`);
    expect((await service.ledger(tenant)).map((row) => row.order_id)).toEqual(['healthy']);

    service.poisonFixed = true;
    const replayed = await replayer.replay(service.catalogue.topic, {
      eventIds: [entries[0]?.eventId as string],
    });
    expect(replayed).toHaveLength(1);
    const ledger = await waitFor('the replayed order', async () => {
      const rows = await service.ledger(tenant);
      return rows.length === 2 ? rows : undefined;
    });
    expect(ledger.map((row) => row.order_id)).toEqual(['healthy', 'poisoned']);
    expect(ledger.every((row) => row.actor_id === 'alice')).toBe(true);
  });
});
