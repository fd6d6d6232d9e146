import type { DataSource } from 'typeorm';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import type { TestDatabase } from '@tenantry/testing';
import { createTestDatabase, testStackEnv } from '@tenantry/testing';
import { DurableInboxJanitor, EventTables1764230400000, silentLogger } from '../src';

const DAY_MS = 24 * 60 * 60_000;

describe('DurableInboxJanitor', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase(testStackEnv().databaseAdminUrl, 'durable_janitor');
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

  async function row(consumer: string, eventId: string, ageDays: number): Promise<void> {
    await dataSource.query(
      `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id, processed_at)
       VALUES ($1, $2, 'x.y.changed', 't', now() - ($3::text || ' days')::interval)`,
      [consumer, eventId, String(ageDays)],
    );
  }

  async function remaining(): Promise<string[]> {
    const rows: { consumer: string; event_id: string }[] = await dataSource.query(
      `SELECT consumer, event_id FROM event_inbox`,
    );
    return rows.map((r) => `${r.consumer}/${r.event_id}`).sort();
  }

  it('prunes only its consumers’ rows older than the retention (14 days by default)', async () => {
    await row('billing.ledger', 'old', 15);
    await row('billing.ledger', 'within-retention', 10);
    await row('billing.ledger', 'recent', 0);
    await row('billing.invoices', 'old', 20);
    // A name that merely starts like a pruned consumer, and another service's consumer.
    await row('billing.ledger-v2', 'old', 30);
    await row('reporting.ledger', 'old', 30);
    const janitor = new DurableInboxJanitor({
      dataSource,
      logger: silentLogger,
      consumers: ['billing.ledger', 'billing.invoices'],
    });

    expect(await janitor.pruneOnce()).toBe(2);
    expect(await remaining()).toEqual(
      [
        'billing.ledger-v2/old',
        'billing.ledger/recent',
        'billing.ledger/within-retention',
        'reporting.ledger/old',
      ].sort(),
    );
    expect(await janitor.pruneOnce()).toBe(0);
  });

  it('deletes a large backlog in bounded batches', async () => {
    await dataSource.query(
      `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id, processed_at)
       SELECT 'batch.consumer', 'e-' || n, 'x.y.changed', 't', now() - interval '30 days'
         FROM generate_series(1, 25001) AS n`,
    );
    const janitor = new DurableInboxJanitor({
      dataSource,
      logger: silentLogger,
      consumers: ['batch.consumer'],
    });
    expect(await janitor.pruneOnce()).toBe(25001);
  });

  it('refuses a retention that is not longer than the topic’s', () => {
    expect(
      () =>
        new DurableInboxJanitor({
          dataSource,
          logger: silentLogger,
          consumers: ['billing.ledger'],
          keepMs: 7 * DAY_MS,
          topicRetentionMs: 7 * DAY_MS,
        }),
    ).toThrow('must be longer than the topic retention');
  });
});
