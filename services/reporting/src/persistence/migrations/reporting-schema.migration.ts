import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity } from '@tenantry/db';
import { LATENCY_BUCKET_COUNT } from '../../domain/latency-histogram';

/** Every read-model table: each row belongs to one tenant, under forced row-level security. */
export const REPORTING_TENANT_TABLES = [
  'report_freshness',
  'tenant_profiles',
  'tenant_tombstones',
  'usage_hourly',
  'usage_daily',
  'active_users_daily',
  'membership_events',
  'members',
  'role_events',
  'role_assignments',
  'subscription_state',
  'invoices',
  'credit_notes',
  'activity',
];

/**
 * The read models (docs/adr/0015). Two kinds of rows, so that duplicated or reordered delivery
 * converges: additive buckets (usage, active users), whose updates commute; and current-state
 * rows derived from facts keyed by event id (members, roles) or chosen by the newest
 * (event time, event id) (subscription, tenant status), which do not depend on arrival order.
 */
export class ReportingSchema1797100000000 implements MigrationInterface {
  name = 'ReportingSchema1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // `as_of`: the newest event time applied per tenant and report family.
    await queryRunner.query(`
      CREATE TABLE report_freshness (
        tenant_id text NOT NULL,
        stream text NOT NULL CHECK (stream IN ('usage', 'members', 'billing', 'activity')),
        as_of timestamptz NOT NULL,
        events_applied bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, stream)
      )`);
    await queryRunner.query(`
      CREATE TABLE tenant_profiles (
        tenant_id text PRIMARY KEY,
        name text,
        slug text,
        plan text,
        created_at timestamptz,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        status_changed_at timestamptz,
        status_event_id text
      )`);
    // What is left of a deleted tenant: late or replayed events must not bring its rows back.
    await queryRunner.query(`
      CREATE TABLE tenant_tombstones (
        tenant_id text PRIMARY KEY,
        deleted_at timestamptz NOT NULL
      )`);
    // Usage buckets: additive (order-free). Latency in a fixed log-spaced histogram
    // (domain/latency-histogram.ts) so percentiles of any range come from sums; the sum is in
    // integer microseconds so it adds up exactly in any order.
    for (const table of ['usage_hourly', 'usage_daily']) {
      await queryRunner.query(`
        CREATE TABLE ${table} (
          tenant_id text NOT NULL,
          bucket_start timestamptz NOT NULL,
          route_group text NOT NULL,
          status_class text NOT NULL CHECK (status_class IN ('1xx', '2xx', '3xx', '4xx', '5xx')),
          calls bigint NOT NULL CHECK (calls >= 0),
          server_errors bigint NOT NULL CHECK (server_errors >= 0),
          latency_sum_us bigint NOT NULL,
          latency_max_ms double precision NOT NULL,
          latency_histogram bigint[] NOT NULL
            CHECK (cardinality(latency_histogram) = ${LATENCY_BUCKET_COUNT}),
          PRIMARY KEY (tenant_id, bucket_start, route_group, status_class)
        )`);
    }
    await queryRunner.query(`
      CREATE TABLE active_users_daily (
        tenant_id text NOT NULL,
        day timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        calls bigint NOT NULL,
        PRIMARY KEY (tenant_id, day, actor_type, actor_id)
      )`);
    // Membership facts, one row per event; `members` is recomputed from them per user.
    await queryRunner.query(`
      CREATE TABLE membership_events (
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        user_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('added', 'removed')),
        role text,
        email text,
        display_name text,
        occurred_at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX membership_events_by_user
         ON membership_events (tenant_id, user_id, occurred_at DESC, event_id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX membership_events_recent
         ON membership_events (tenant_id, occurred_at DESC, event_id DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE members (
        tenant_id text NOT NULL,
        user_id text NOT NULL,
        email text,
        display_name text,
        joined_role text,
        active boolean NOT NULL,
        joined_at timestamptz,
        removed_at timestamptz,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      )`);
    await queryRunner.query(`CREATE INDEX members_page ON members (tenant_id, joined_at, user_id)`);
    await queryRunner.query(`
      CREATE TABLE role_events (
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        role text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('assigned', 'revoked')),
        occurred_at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX role_events_by_subject
         ON role_events (tenant_id, subject_type, subject_id, role, occurred_at DESC, event_id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX role_events_recent ON role_events (tenant_id, occurred_at DESC, event_id DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE role_assignments (
        tenant_id text NOT NULL,
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        role text NOT NULL,
        assigned boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, subject_type, subject_id, role)
      )`);
    // The newest subscription change wins, by (changed_at, event_id).
    await queryRunner.query(`
      CREATE TABLE subscription_state (
        tenant_id text PRIMARY KEY,
        subscription_id text NOT NULL,
        status text NOT NULL,
        plan_code text NOT NULL,
        plan_version integer NOT NULL,
        pending_plan_code text,
        cancel_at_period_end boolean NOT NULL,
        current_period_start timestamptz NOT NULL,
        current_period_end timestamptz NOT NULL,
        last_change text NOT NULL,
        changed_at timestamptz NOT NULL,
        event_id text NOT NULL
      )`);
    // Each invoice event fills its own columns, so any order gives the same row; the status is
    // derived from them (void > paid > issued). Amounts in integer minor units.
    await queryRunner.query(`
      CREATE TABLE invoices (
        tenant_id text NOT NULL,
        invoice_id text NOT NULL,
        number text,
        currency char(3),
        period_start timestamptz,
        period_end timestamptz,
        subtotal_minor bigint,
        total_minor bigint,
        is_final boolean,
        issued_at timestamptz,
        due_at timestamptz,
        overdue_at timestamptz,
        paid_at timestamptz,
        paid_minor bigint,
        voided_at timestamptz,
        PRIMARY KEY (tenant_id, invoice_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE credit_notes (
        tenant_id text NOT NULL,
        credit_note_id text NOT NULL,
        invoice_id text NOT NULL,
        number text NOT NULL,
        currency char(3) NOT NULL,
        amount_minor bigint NOT NULL,
        issued_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, credit_note_id)
      )`);
    // Privileged acts, newest first; no personal data beyond ids (emails stay in members).
    await queryRunner.query(`
      CREATE TABLE activity (
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        action text NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        subject text NOT NULL,
        summary text NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX activity_recent ON activity (tenant_id, occurred_at DESC, event_id DESC)`,
    );
    for (const table of REPORTING_TENANT_TABLES) {
      await enableTenantRowLevelSecurity(queryRunner, table);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...REPORTING_TENANT_TABLES].reverse()) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
  }
}
