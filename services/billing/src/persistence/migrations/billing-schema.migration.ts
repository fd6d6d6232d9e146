import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity, enableTenantWriteRowLevelSecurity } from '@tenantry/db';

const TENANT_TABLES = [
  'subscriptions',
  'seat_events',
  'usage_ledger',
  'usage_aggregates',
  'pending_items',
  'invoices',
  'invoice_lines',
  'credit_notes',
  'document_sequences',
  'tenant_tombstones',
];

/** Set (transaction-local) only by the tenant purge: lets it delete issued documents. */
export const BILLING_PURGE_SETTING = 'billing.tenant_purge';

/** Plans, subscriptions, the usage ledger, invoices and credit notes. */
export class BillingSchema1797000000000 implements MigrationInterface {
  name = 'BillingSchema1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Global on purpose: the operator's plan catalogue is the same for every tenant and holds no
    // tenant data; every tenant's subscription reads it. Rows are versioned, never changed in
    // place: a subscription keeps the (code, version) it signed up for.
    await queryRunner.query(`
      CREATE TABLE plans (
        code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9-]{1,40}$'),
        version integer NOT NULL CHECK (version > 0),
        name text NOT NULL,
        currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        seat_price_minor bigint NOT NULL CHECK (seat_price_minor >= 0),
        included_api_calls bigint NOT NULL CHECK (included_api_calls >= 0),
        overage_per_1000_minor bigint NOT NULL CHECK (overage_per_1000_minor >= 0),
        trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (code, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL UNIQUE,
        plan_code text NOT NULL,
        plan_version integer NOT NULL,
        status text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
        time_zone text,
        started_at timestamptz NOT NULL,
        trial_ends_at timestamptz,
        current_period_start timestamptz NOT NULL,
        current_period_end timestamptz NOT NULL,
        pending_plan_code text,
        pending_plan_version integer,
        cancel_at_period_end boolean NOT NULL DEFAULT false,
        canceled_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (plan_code, plan_version) REFERENCES plans (code, version),
        FOREIGN KEY (pending_plan_code, pending_plan_version) REFERENCES plans (code, version)
      )`);
    // Membership history as identity reported it; seats are derived from it per period.
    await queryRunner.query(`
      CREATE TABLE seat_events (
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        user_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('added', 'removed')),
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, event_id)
      )`);
    // One row per metered event, unique on (tenant, event id): a copy that gets past an inbox
    // (another consumer name, a re-produced event) still cannot count twice.
    await queryRunner.query(`
      CREATE TABLE usage_ledger (
        tenant_id text NOT NULL,
        event_id text NOT NULL,
        meter text NOT NULL,
        quantity bigint NOT NULL CHECK (quantity > 0),
        occurred_at timestamptz NOT NULL,
        period_start timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        invoice_id uuid,
        PRIMARY KEY (tenant_id, event_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX usage_ledger_unbilled ON usage_ledger (tenant_id, occurred_at) WHERE invoice_id IS NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE usage_aggregates (
        tenant_id text NOT NULL,
        period_start timestamptz NOT NULL,
        meter text NOT NULL,
        quantity bigint NOT NULL,
        PRIMARY KEY (tenant_id, period_start, meter)
      )`);
    // Charges and credits decided between invoices (proration), waiting for the next one.
    await queryRunner.query(`
      CREATE TABLE pending_items (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        kind text NOT NULL,
        description text NOT NULL,
        quantity bigint NOT NULL,
        unit_amount_minor bigint NOT NULL,
        amount_minor bigint NOT NULL,
        currency char(3) NOT NULL,
        created_at timestamptz NOT NULL,
        invoice_id uuid
      )`);
    await queryRunner.query(`
      CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
        sequence integer,
        number text,
        idempotency_key text NOT NULL,
        currency char(3) NOT NULL,
        plan_code text NOT NULL,
        plan_version integer NOT NULL,
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL,
        subtotal_minor bigint NOT NULL DEFAULT 0,
        total_minor bigint NOT NULL DEFAULT 0,
        is_final boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        issued_at timestamptz,
        due_at timestamptz,
        overdue_at timestamptz,
        paid_at timestamptz,
        payment_reference text,
        paid_by text,
        voided_at timestamptz,
        void_reason text,
        voided_by text,
        UNIQUE (tenant_id, idempotency_key),
        UNIQUE (tenant_id, sequence),
        CHECK ((status = 'draft') = (sequence IS NULL))
      )`);
    await queryRunner.query(`
      CREATE TABLE invoice_lines (
        invoice_id uuid NOT NULL REFERENCES invoices (id),
        position integer NOT NULL,
        tenant_id text NOT NULL,
        kind text NOT NULL,
        description text NOT NULL,
        quantity bigint NOT NULL,
        unit_amount_minor bigint NOT NULL,
        amount_minor bigint NOT NULL,
        PRIMARY KEY (invoice_id, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE credit_notes (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        invoice_id uuid NOT NULL REFERENCES invoices (id),
        sequence integer NOT NULL,
        number text NOT NULL,
        currency char(3) NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        reason text NOT NULL,
        issued_at timestamptz NOT NULL,
        issued_by text NOT NULL,
        UNIQUE (tenant_id, sequence)
      )`);
    // Gapless numbering: the row is locked by UPDATE ... RETURNING in the issuing transaction,
    // so numbers are handed out one at a time and a rollback gives the number back.
    await queryRunner.query(`
      CREATE TABLE document_sequences (
        tenant_id text NOT NULL,
        series text NOT NULL CHECK (series IN ('invoice', 'credit-note')),
        last_number integer NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, series)
      )`);
    // What is left of a deleted tenant: late events must not bring its billing back.
    await queryRunner.query(`
      CREATE TABLE tenant_tombstones (
        tenant_id text PRIMARY KEY,
        deleted_at timestamptz NOT NULL,
        final_invoice_number text
      )`);
    for (const table of TENANT_TABLES) await enableTenantRowLevelSecurity(queryRunner, table);

    // Tenant-bound writes (ADR 0008): the scheduler reads it across tenants to find periods that
    // ended and invoices that fell due; it holds only ids and instants. Writes stay per tenant.
    await queryRunner.query(`
      CREATE TABLE billing_schedule (
        tenant_id text PRIMARY KEY,
        period_end timestamptz,
        close_enqueued_for timestamptz,
        close_attempts integer NOT NULL DEFAULT 0,
        close_enqueued_at timestamptz,
        overdue_check_at timestamptz
      )`);
    await enableTenantWriteRowLevelSecurity(queryRunner, 'billing_schedule');

    await this.immutabilityGuards(queryRunner);
    await this.seedPlans(queryRunner);
  }

  /**
   * Issued documents never change (only the status moves on: issued -> paid | void, and the
   * overdue mark); lines of an issued invoice are fixed. Only the tenant purge, with its
   * transaction-local setting, deletes them. This guards every code path; it is not a barrier
   * against someone who can run arbitrary SQL as the app role.
   */
  private async immutabilityGuards(queryRunner: QueryRunner): Promise<void> {
    const purging = `coalesce(current_setting('${BILLING_PURGE_SETTING}', true), '') = 'on'`;
    await queryRunner.query(`
      CREATE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF OLD.status <> 'draft' AND NOT (${purging}) THEN
            RAISE EXCEPTION 'invoice % is % and cannot be deleted', OLD.id, OLD.status
              USING ERRCODE = '42501';
          END IF;
          RETURN OLD;
        END IF;
        IF OLD.status = 'draft' THEN RETURN NEW; END IF;
        IF (NEW.id, NEW.tenant_id, NEW.sequence, NEW.number, NEW.idempotency_key, NEW.currency,
            NEW.plan_code, NEW.plan_version, NEW.period_start, NEW.period_end, NEW.subtotal_minor,
            NEW.total_minor, NEW.is_final, NEW.issued_at, NEW.due_at)
           IS DISTINCT FROM
           (OLD.id, OLD.tenant_id, OLD.sequence, OLD.number, OLD.idempotency_key, OLD.currency,
            OLD.plan_code, OLD.plan_version, OLD.period_start, OLD.period_end, OLD.subtotal_minor,
            OLD.total_minor, OLD.is_final, OLD.issued_at, OLD.due_at) THEN
          RAISE EXCEPTION 'invoice % is % and immutable', OLD.id, OLD.status USING ERRCODE = '42501';
        END IF;
        IF NEW.status <> OLD.status AND NOT (OLD.status = 'issued' AND NEW.status IN ('paid', 'void')) THEN
          RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
        FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard()`);
    await queryRunner.query(`
      CREATE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        parent_status text;
      BEGIN
        IF ${purging} THEN RETURN COALESCE(NEW, OLD); END IF;
        SELECT status INTO parent_status FROM invoices
          WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
        IF parent_status IS DISTINCT FROM 'draft' THEN
          RAISE EXCEPTION 'lines of a % invoice are immutable', parent_status
            USING ERRCODE = '42501';
        END IF;
        RETURN COALESCE(NEW, OLD);
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
        FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_guard()`);
    await queryRunner.query(`
      CREATE FUNCTION billing_credit_note_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND ${purging} THEN RETURN OLD; END IF;
        RAISE EXCEPTION 'credit notes are immutable' USING ERRCODE = '42501';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER credit_notes_immutable BEFORE UPDATE OR DELETE ON credit_notes
        FOR EACH ROW EXECUTE FUNCTION billing_credit_note_guard()`);
  }

  /** The default catalogue: a free plan and two paid plans (USD, monthly). */
  private async seedPlans(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      INSERT INTO plans (code, version, name, currency, seat_price_minor, included_api_calls,
                         overage_per_1000_minor, trial_days)
      VALUES ('free', 1, 'Free', 'USD', 0, 10000, 0, 0),
             ('team', 1, 'Team', 'USD', 1200, 100000, 50, 14),
             ('business', 1, 'Business', 'USD', 3900, 1000000, 30, 14)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE billing_schedule`);
    for (const table of [...TENANT_TABLES].reverse()) {
      await queryRunner.query(`DROP TABLE ${table}`);
    }
    await queryRunner.query(`DROP TABLE plans`);
    for (const fn of [
      'billing_invoice_guard',
      'billing_invoice_line_guard',
      'billing_credit_note_guard',
    ]) {
      await queryRunner.query(`DROP FUNCTION ${fn}()`);
    }
  }
}
