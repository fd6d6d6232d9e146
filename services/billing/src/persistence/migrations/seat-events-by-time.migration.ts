import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seats of a window are read as the members at its start (each user's last change before it) and
 * the changes inside it (SeatRepository.window). Until now seat_events had only its primary key
 * (tenant_id, event_id), so every read scanned all tenants' rows; this index lets a tenant's read
 * find its rows, and the changes inside a window, by range. Row-level security is untouched.
 */
export class SeatEventsByTime1797200000000 implements MigrationInterface {
  name = 'SeatEventsByTime1797200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX seat_events_by_time ON seat_events (tenant_id, occurred_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX seat_events_by_time`);
  }
}
