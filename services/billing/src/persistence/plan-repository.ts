import type { DataSource } from 'typeorm';
import type { PlanVersion } from '../domain/plan';
import { returnedRows } from './sql-rows';

interface PlanRow {
  code: string;
  version: number;
  name: string;
  currency: string;
  seat_price_minor: string;
  included_api_calls: string;
  overage_per_1000_minor: string;
  trial_days: number;
  active: boolean;
}

export interface PlanView extends PlanVersion {
  readonly active: boolean;
}

const COLUMNS = `code, version, name, currency, seat_price_minor::text, included_api_calls::text,
  overage_per_1000_minor::text, trial_days, active`;

function toPlan(row: PlanRow): PlanView {
  return {
    code: row.code,
    version: row.version,
    name: row.name,
    currency: row.currency,
    seatPriceMinor: BigInt(row.seat_price_minor),
    includedApiCalls: BigInt(row.included_api_calls),
    overagePer1000Minor: BigInt(row.overage_per_1000_minor),
    trialDays: row.trial_days,
    active: row.active,
  };
}

/** Something that can run SQL: the pool or a (tenant) transaction's manager. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * The global plan catalogue. Versions are append-only: a change of price is a new version, and
 * subscriptions keep the version they signed up for until they change plan.
 */
export class PlanRepository {
  constructor(private readonly dataSource: DataSource) {}

  async version(
    code: string,
    version: number,
    db: Queryable = this.dataSource,
  ): Promise<PlanView | undefined> {
    const rows = returnedRows<PlanRow>(
      await db.query(`SELECT ${COLUMNS} FROM plans WHERE code = $1 AND version = $2`, [
        code,
        version,
      ]),
    );
    return rows[0] ? toPlan(rows[0]) : undefined;
  }

  /** The newest active version of a plan: what a new subscriber or a plan change gets. */
  async current(code: string, db: Queryable = this.dataSource): Promise<PlanView | undefined> {
    const rows = returnedRows<PlanRow>(
      await db.query(
        `SELECT ${COLUMNS} FROM plans WHERE code = $1 AND active ORDER BY version DESC LIMIT 1`,
        [code],
      ),
    );
    return rows[0] ? toPlan(rows[0]) : undefined;
  }

  async listCurrent(): Promise<PlanView[]> {
    const rows = returnedRows<PlanRow>(
      await this.dataSource.query(
        `SELECT DISTINCT ON (code) ${COLUMNS} FROM plans WHERE active
         ORDER BY code, version DESC`,
      ),
    );
    return rows.map(toPlan).sort((a, b) => (a.seatPriceMinor < b.seatPriceMinor ? -1 : 1));
  }

  /** A new version of a plan (the operator's catalogue change); older versions stay. */
  async addVersion(plan: Omit<PlanVersion, 'version'>): Promise<PlanView> {
    const rows = returnedRows<PlanRow>(
      await this.dataSource.query(
        `INSERT INTO plans (code, version, name, currency, seat_price_minor, included_api_calls,
                            overage_per_1000_minor, trial_days)
         SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6, $7 FROM plans WHERE code = $1
         RETURNING ${COLUMNS}`,
        [
          plan.code,
          plan.name,
          plan.currency,
          plan.seatPriceMinor.toString(),
          plan.includedApiCalls.toString(),
          plan.overagePer1000Minor.toString(),
          plan.trialDays,
        ],
      ),
    );
    return toPlan(rows[0] as PlanRow);
  }
}
