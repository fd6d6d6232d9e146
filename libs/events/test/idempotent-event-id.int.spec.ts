import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource, withTenant } from '@tenantry/db';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import {
  DuplicateEventError,
  EventCodec,
  EventTables1764230400000,
  Outbox,
  idempotentEventId,
} from '../src';
import { orderCatalogue } from './support/order-catalogue';
import { CreateOrders1764230500000 } from './support/order-migrations';

describe('an event id derived from an idempotency key', () => {
  const env = testStackEnv();
  const catalogue = orderCatalogue(`t${randomBytes(4).toString('hex')}`);
  const codec = new EventCodec(env.schemaRegistryUrl);
  const outbox = new Outbox(codec, '/services/idempotency-test');
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(env.databaseAdminUrl, 'idev');
    const config = {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, CreateOrders1764230500000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
    await codec.register([catalogue.orderPlaced]);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A mutation as an idempotent handler writes it: the row and its event in one transaction. */
  function placeOrder(tenantId: string, idempotencyKey: string): Promise<string> {
    const context = {
      tenantId,
      actor: { type: 'user' as const, id: 'u1' },
      requestId: randomUUID(),
    };
    return runWithTenantContext(context, () =>
      withTenant(dataSource, tenantId, async (tx) => {
        const orderId = randomUUID();
        await tx.manager.query(
          `INSERT INTO orders (id, tenant_id, total_cents) VALUES ($1, $2, 1)`,
          [orderId, tenantId],
        );
        const metadata = await outbox.publish(tx, catalogue.orderPlaced, {
          id: idempotentEventId({ idempotencyKey, eventType: catalogue.orderPlaced.type }),
          subject: orderId,
          data: { orderId, totalCents: 1, note: '' },
        });
        return metadata.id;
      }),
    );
  }

  const count = (tenantId: string, table: 'orders' | 'event_outbox') =>
    withTenant(dataSource, tenantId, async (tx) => {
      const [row] = (await tx.manager.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`,
        [tenantId],
      )) as { n: number }[];
      return row?.n;
    });

  it('makes a re-run of the same mutation fail as a whole instead of writing twice', async () => {
    const tenantId = `t-${randomUUID()}`;
    const id = await placeOrder(tenantId, 'key-1');
    expect(id).toBe(
      idempotentEventId(
        { idempotencyKey: 'key-1', eventType: catalogue.orderPlaced.type },
        { tenantId, actor: { type: 'user', id: 'u1' } },
      ),
    );
    const rerun = placeOrder(tenantId, 'key-1');
    await expect(rerun).rejects.toBeInstanceOf(DuplicateEventError);
    await expect(rerun).rejects.toMatchObject({ eventIds: [id] });
    // The re-run's state change rolled back with its event.
    expect(await count(tenantId, 'orders')).toBe(1);
    expect(await count(tenantId, 'event_outbox')).toBe(1);
  });

  it('gives another key, or the same key in another tenant, an event of its own', async () => {
    const [a, b] = [`t-${randomUUID()}`, `t-${randomUUID()}`];
    const ids = [
      await placeOrder(a, 'key-1'),
      await placeOrder(a, 'key-2'),
      await placeOrder(b, 'key-1'),
    ];
    expect(new Set(ids).size).toBe(3);
    expect(await count(a, 'event_outbox')).toBe(2);
    expect(await count(b, 'event_outbox')).toBe(1);
  });
});
