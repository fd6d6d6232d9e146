import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables every service database carries. Add this class to a service's
 * migrations list. They are platform tables, not tenant data: each row names its tenant, but the
 * relay reads across tenants, so they have no row-level security policy.
 */
export class EventTables1764230400000 implements MigrationInterface {
  name = 'EventTables1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_outbox (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        topic text NOT NULL,
        partition_key text NOT NULL,
        event_type text NOT NULL,
        tenant_id text NOT NULL,
        headers jsonb NOT NULL,
        value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await queryRunner.query(
      `CREATE INDEX event_outbox_pending ON event_outbox (seq) WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX event_outbox_published ON event_outbox (published_at) WHERE published_at IS NOT NULL`,
    );
    // Wakes the relay when a transaction that wrote events commits (NOTIFY is delivered on commit).
    await queryRunner.query(`
      CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('event_outbox', '');
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
      FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify()`);
    await queryRunner.query(`
      CREATE TABLE event_inbox (
        consumer text NOT NULL,
        event_id text NOT NULL,
        event_type text NOT NULL,
        tenant_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE event_inbox`);
    await queryRunner.query(`DROP TRIGGER event_outbox_notify ON event_outbox`);
    await queryRunner.query(`DROP FUNCTION event_outbox_notify()`);
    await queryRunner.query(`DROP TABLE event_outbox`);
  }
}
