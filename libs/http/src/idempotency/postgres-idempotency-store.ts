import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { withTenant } from '@tenantry/db';
import type { TenantTransaction } from '@tenantry/db';
import type {
  ClaimOutcome,
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredResponse,
} from './idempotency-store';

export interface PostgresIdempotencyStoreOptions {
  /** How long a key is remembered after its first use; default 24 hours. */
  readonly ttlMs?: number;
  /**
   * How long a running request holds its key before another request may take it over (the
   * first one crashed, or is hopelessly slow); default 60 s. Keep it well above the route's
   * longest run.
   */
  readonly leaseMs?: number;
  /** Expired rows of the tenant deleted with each claim, so the table stays bounded; default 100. */
  readonly pruneBatch?: number;
  /** Seconds a client is told to wait (`Retry-After`) while the key is in use; default 1. */
  readonly retryAfterSeconds?: number;
}

interface KeyRow {
  fingerprint: string;
  state: 'running' | 'completed';
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: Buffer | null;
  /** Still remembered (not past expires_at). */
  live: boolean;
  /** Running, and its lease has not run out. */
  leased: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const KEY_PREDICATE = `tenant_id = $1 AND actor_type = $2 AND actor_id = $3 AND idempotency_key = $4`;

function scopeParams(scope: IdempotencyScope): string[] {
  return [scope.tenantId, scope.actorType, scope.actorId, scope.key];
}

/** TypeORM answers UPDATE and DELETE with `[rows, rowCount]`. */
function affectedRows(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

/**
 * Idempotency keys in the service's own database (table from `IdempotencyKeys1796500000000`),
 * read and written only in the key's tenant transaction. Times come from the database clock, so
 * replicas with skewed clocks agree on leases and expiry.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly ttlMs: number;
  private readonly leaseMs: number;
  private readonly pruneBatch: number;
  private readonly retryAfterSeconds: number;

  constructor(
    private readonly dataSource: DataSource,
    options: PostgresIdempotencyStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DAY_MS;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pruneBatch = options.pruneBatch ?? 100;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    if (!(this.ttlMs > 0) || !(this.leaseMs > 0)) {
      throw new RangeError('idempotency ttlMs and leaseMs must be positive');
    }
  }

  claim(scope: IdempotencyScope, fingerprint: string): Promise<ClaimOutcome> {
    return withTenant(this.dataSource, scope.tenantId, async (tx) => {
      await this.pruneExpired(tx);
      const token = randomUUID();
      // Atomic across replicas: of concurrent inserts of one key, one wins; the others wait for
      // it to commit and then find the row.
      const inserted = (await tx.manager.query(
        `INSERT INTO idempotency_keys (tenant_id, actor_type, actor_id, idempotency_key,
                                       fingerprint, state, claim_token, locked_until, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $6,
                 now() + make_interval(secs => $7), now() + make_interval(secs => $8))
         ON CONFLICT (tenant_id, actor_type, actor_id, idempotency_key) DO NOTHING
         RETURNING claim_token`,
        [...scopeParams(scope), fingerprint, token, this.leaseMs / 1000, this.ttlMs / 1000],
      )) as unknown[];
      if (inserted.length === 1) return { kind: 'claimed', claim: { scope, token } };

      // The row lock orders this against any other request deciding about the same key.
      const [row] = (await tx.manager.query(
        `SELECT fingerprint, state, response_status, response_headers, response_body,
                expires_at > now() AS live,
                (state = 'running' AND locked_until > now()) AS leased
           FROM idempotency_keys WHERE ${KEY_PREDICATE} FOR UPDATE`,
        scopeParams(scope),
      )) as KeyRow[];
      // Gone between the two statements only if a concurrent claim released it: it was in use.
      if (!row) return { kind: 'in-progress', retryAfterSeconds: this.retryAfterSeconds };

      const expired = !row.live && !row.leased;
      const crashed = row.state === 'running' && !row.leased && row.fingerprint === fingerprint;
      if (expired || crashed) {
        await tx.manager.query(
          `UPDATE idempotency_keys
              SET fingerprint = $5, state = 'running', claim_token = $6,
                  locked_until = now() + make_interval(secs => $7),
                  expires_at = CASE WHEN $9 THEN now() + make_interval(secs => $8) ELSE expires_at END,
                  response_status = NULL, response_headers = NULL, response_body = NULL,
                  completed_at = NULL, created_at = CASE WHEN $9 THEN now() ELSE created_at END
            WHERE ${KEY_PREDICATE}`,
          [
            ...scopeParams(scope),
            fingerprint,
            token,
            this.leaseMs / 1000,
            this.ttlMs / 1000,
            expired,
          ],
        );
        return { kind: 'claimed', claim: { scope, token } };
      }
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (row.state === 'running') {
        return { kind: 'in-progress', retryAfterSeconds: this.retryAfterSeconds };
      }
      return {
        kind: 'replay',
        response: {
          status: row.response_status ?? 500,
          headers: row.response_headers ?? {},
          body: row.response_body ?? Buffer.alloc(0),
        },
      };
    });
  }

  complete(claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    return withTenant(this.dataSource, claim.scope.tenantId, async (tx) => {
      const result = await tx.manager.query(
        `UPDATE idempotency_keys
            SET state = 'completed', locked_until = NULL, completed_at = now(),
                response_status = $6, response_headers = $7, response_body = $8
          WHERE ${KEY_PREDICATE} AND claim_token = $5 AND state = 'running'`,
        [
          ...scopeParams(claim.scope),
          claim.token,
          response.status,
          JSON.stringify(response.headers),
          response.body,
        ],
      );
      return affectedRows(result) === 1;
    });
  }

  async release(claim: IdempotencyClaim): Promise<void> {
    await withTenant(this.dataSource, claim.scope.tenantId, (tx) =>
      tx.manager.query(
        `DELETE FROM idempotency_keys
          WHERE ${KEY_PREDICATE} AND claim_token = $5 AND state = 'running'`,
        [...scopeParams(claim.scope), claim.token],
      ),
    );
  }

  /**
   * A bounded delete of the tenant's expired keys (row-level security limits it to the
   * transaction's tenant); rows another transaction holds are skipped, not waited for.
   */
  private async pruneExpired(tx: TenantTransaction): Promise<void> {
    await tx.manager.query(
      `DELETE FROM idempotency_keys
        WHERE ctid = ANY (ARRAY(
          SELECT ctid FROM idempotency_keys
           WHERE tenant_id = $1 AND expires_at <= now()
             AND (state = 'completed' OR locked_until <= now())
           LIMIT $2 FOR UPDATE SKIP LOCKED))`,
      [tx.tenantId, this.pruneBatch],
    );
  }
}
