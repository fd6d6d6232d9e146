import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import { EventTables1764230400000, InstanceInboxJanitor, silentLogger } from '../src';

describe('InstanceInboxJanitor', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testStackEnv().databaseAdminUrl, 'janitor');
    const config = {
      appUrl: database.appUrl,
      ownerUrl: database.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000],
    };
    await migrateServiceDatabase(config);
    dataSource = await openServiceDataSource(config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function row(consumer: string, eventId: string, ageMinutes: number): Promise<void> {
    await dataSource.query(
      `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id, processed_at)
       VALUES ($1, $2, 'x.y.changed', 't', now() - ($3::text || ' minutes')::interval)`,
      [consumer, eventId, String(ageMinutes)],
    );
  }

  async function consumers(): Promise<string[]> {
    const rows: { consumer: string; event_id: string }[] = await dataSource.query(
      `SELECT consumer, event_id FROM event_inbox ORDER BY consumer, event_id`,
    );
    return rows.map((r) => `${r.consumer}/${r.event_id}`);
  }

  it('prunes old rows of every instance under its prefix, and forgets its own on stop', async () => {
    await row('svc.cache.dead-1', 'old', 120);
    await row('svc.cache.dead-1', 'recent', 5);
    await row('svc.cache.me', 'mine', 1);
    await row('svc.ledger', 'durable', 120);
    const janitor = new InstanceInboxJanitor({
      dataSource,
      logger: silentLogger,
      consumerPrefix: 'svc.cache.',
      consumerName: 'svc.cache.me',
      keepMs: 60 * 60_000,
    });

    expect(await janitor.pruneOnce()).toBe(1);
    expect(await consumers()).toEqual([
      'svc.cache.dead-1/recent',
      'svc.cache.me/mine',
      'svc.ledger/durable',
    ]);
    expect(await janitor.forgetOwnRows()).toBe(1);
    // Another consumer's inbox (not per instance) is never touched.
    expect(await consumers()).toEqual(['svc.cache.dead-1/recent', 'svc.ledger/durable']);
  });
});
