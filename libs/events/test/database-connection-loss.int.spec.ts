import { randomUUID } from 'node:crypto';
import { withTenant } from '@tenantry/db';
import { waitFor } from '@tenantry/testing';
import { InboxConsumer, dlqTopicOf } from '../src';
import { OrderTestService } from './support/order-service';

// PostgreSQL really drops the handler's connection (the backend is terminated, SQLSTATE 57P01):
// the consumer must pause and retry, never dead-letter the event.
describe('inbox consumer losing its database connection', () => {
  let service: OrderTestService;
  let inbox: InboxConsumer | undefined;

  beforeAll(async () => {
    service = await new OrderTestService().setUp();
    // This test's own consumer replaces the service's, with a handler that loses its connection.
    await service.inbox.stop();
  });

  afterEach(async () => {
    await inbox?.stop();
    inbox = undefined;
  });

  afterAll(async () => {
    await service?.tearDown();
  });

  // Read-ahead applies events in a worker apart from kafkajs' batch: it pauses and retries there.
  it.each([
    { how: 'one batch at a time', name: 'flaky-ledger', readAheadBytes: undefined },
    { how: 'reading ahead', name: 'flaky-ledger-ahead', readAheadBytes: 1024 * 1024 },
  ])(
    'pauses on a terminated connection and applies each event exactly once ($how)',
    async ({ name, readAheadBytes }) => {
      const tenant = `tenant-${randomUUID()}`;
      const terminations = new Map<string, number>();
      const consumerName = `${service.domain}-${name}`;
      inbox = new InboxConsumer({
        name: consumerName,
        ...(readAheadBytes === undefined ? {} : { readAheadBytes }),
        kafka: service.kafka,
        dataSource: service.consumer,
        codec: service.codec,
        metrics: service.metrics,
        // One attempt would dead-letter a permanent failure at once: only transient ones survive.
        retry: { attempts: 1, initialDelayMs: 50, maxDelayMs: 50 },
        outageBackoff: { initialDelayMs: 100, maxDelayMs: 500 },
      }).on(service.catalogue.orderPlaced, async (event, tx) => {
        const seen = terminations.get(event.id) ?? 0;
        if (seen < 2) {
          terminations.set(event.id, seen + 1);
          await tx.manager.query(`SELECT pg_terminate_backend(pg_backend_pid())`);
        }
        await tx.manager.query(
          `INSERT INTO order_ledger (tenant_id, order_id, total_cents, actor_id) VALUES ($1, $2, $3, $4)`,
          [event.tenantid, event.data.orderId, event.data.totalCents, event.actorid],
        );
      });
      await inbox.start();

      for (let sequence = 1; sequence <= 5; sequence += 1) {
        await service.placeOrder(
          tenant,
          { orderId: randomUUID(), totalCents: sequence },
          { key: `${tenant}:cart` },
        );
      }
      const ledger = await waitFor(
        'all 5 orders',
        async () => {
          const rows = await service.ledger(tenant);
          return rows.length >= 5 ? rows : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 200 },
      );
      expect(ledger.map((row) => Number(row.total_cents))).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(ledger.map((row) => row.order_id)).size).toBe(5);
      expect([...terminations.values()].every((n) => n === 2)).toBe(true);

      const [inboxRows] = await withTenant(service.consumer, tenant, (tx) =>
        tx.manager.query(
          `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct
           FROM event_inbox WHERE consumer = $1 AND tenant_id = $2`,
          // The inbox has no row-level security; the second consumer also reads the first's events.
          [consumerName, tenant],
        ),
      );
      expect(inboxRows).toEqual({ rows: 5, distinct: 5 });
      const admin = service.kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(dlqTopicOf(service.catalogue.topic));
        expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(0);
      } finally {
        await admin.disconnect();
      }
      const transient = await service.metrics.registry.getSingleMetricAsString(
        'inbox_transient_failures_total',
      );
      expect(transient).toContain(`consumer="${consumerName}"`);
    },
  );
});
