import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the relay set aside an outbox row the broker refuses for good (ADR 0009): `refusals`
 * counts those refusals, `set_aside_at` marks the row as out of the relay's way, and `status` is
 * derived from the timestamps so it can never disagree with them. Add it after
 * `EventTables1764230400000` in a service's migrations list. It also NOTIFYs when a row becomes
 * pending again (a set-aside row retried, a published one re-sent by hand): the relay only polls
 * while its LISTEN connection is down, so an UPDATE must wake it as an INSERT does.
 */
export class OutboxSetAside1796238000000 implements MigrationInterface {
  name = 'OutboxSetAside1796238000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE event_outbox
        ADD COLUMN refusals integer NOT NULL DEFAULT 0,
        ADD COLUMN set_aside_at timestamptz,
        ADD COLUMN status text GENERATED ALWAYS AS (
          CASE
            WHEN published_at IS NOT NULL THEN 'published'
            WHEN set_aside_at IS NOT NULL THEN 'set_aside'
            ELSE 'pending'
          END
        ) STORED`);
    // The relay's scan skips set-aside rows; the old index would still walk over them.
    await queryRunner.query(
      `CREATE INDEX event_outbox_unsent ON event_outbox (seq)
       WHERE published_at IS NULL AND set_aside_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX event_outbox_pending`);
    await queryRunner.query(
      `CREATE INDEX event_outbox_set_aside ON event_outbox (set_aside_at)
       WHERE set_aside_at IS NOT NULL AND published_at IS NULL`,
    );
    // Row-level with WHEN so the relay's own updates (marking published, recording errors) stay
    // silent; pg_notify folds a transaction's identical notifications into one.
    await queryRunner.query(`
      CREATE TRIGGER event_outbox_notify_pending_again
      AFTER UPDATE OF published_at, set_aside_at ON event_outbox
      FOR EACH ROW
      WHEN (NEW.published_at IS NULL AND NEW.set_aside_at IS NULL
            AND (OLD.published_at IS NOT NULL OR OLD.set_aside_at IS NOT NULL))
      EXECUTE FUNCTION event_outbox_notify()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER event_outbox_notify_pending_again ON event_outbox`);
    await queryRunner.query(`DROP INDEX event_outbox_set_aside`);
    await queryRunner.query(
      `CREATE INDEX event_outbox_pending ON event_outbox (seq) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`DROP INDEX event_outbox_unsent`);
    await queryRunner.query(`
      ALTER TABLE event_outbox DROP COLUMN status, DROP COLUMN set_aside_at, DROP COLUMN refusals`);
  }
}
