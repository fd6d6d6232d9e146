import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8 } from 'jose';
import type { JWK, KeyLike } from 'jose';
import type { DataSource } from 'typeorm';
import { changedRows } from '../persistence/changed-rows';
import { SigningKeyEntity } from '../persistence/entities/signing-key.entity';
import type { KeyEncryption } from '../security/key-encryption';

export const SIGNING_ALGORITHM = 'ES256';

export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  /** When another key takes over; the cache must not outlive it. */
  readonly retiresAt: Date | null;
}

export interface SigningKeyStoreOptions {
  readonly dataSource: DataSource;
  readonly encryption: KeyEncryption;
  /** Lifetime of the tokens the keys sign: a retired key stays published at least this long. */
  readonly tokenTtlSeconds: number;
  /** How long a replica may keep signing with its cached key; default 30 s. */
  readonly cacheSeconds?: number;
}

// Replicas rotate under one lock, so two rotations never race to retire each other's key.
const ROTATION_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('tenantry.identity.signing_keys'))`;

/**
 * ES256 signing keys in identity's database. Each key is published in the JWKS from creation,
 * signs from `activates_at` until its successor activates (`retired_at`), and stays published
 * until every token it can have signed has expired; then it is pruned and its tokens fail.
 */
export class SigningKeyStore {
  private cached: { key: ActiveSigningKey; until: number } | undefined;
  private readonly cacheMs: number;

  constructor(private readonly options: SigningKeyStoreOptions) {
    this.cacheMs = (options.cacheSeconds ?? 30) * 1000;
  }

  /** Seconds a retired key stays in the JWKS: token lifetime + replica cache + clock skew. */
  private get publishAfterRetirementSeconds(): number {
    return this.options.tokenTtlSeconds + this.cacheMs / 1000 + 60;
  }

  /** Creates a key that signs at once when none can sign (first start). */
  async ensureSigningKey(): Promise<void> {
    if (await this.loadActive()) return;
    await this.rotate(0);
  }

  /**
   * Adds a new key, published now and signing after `publishLeadSeconds`, when the current key
   * retires. Prunes keys whose tokens have all expired. Returns the new kid.
   */
  async rotate(publishLeadSeconds: number): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, {
      extractable: true,
    });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const publicJwk: Record<string, string> = {
      kty: String(jwk.kty),
      crv: String(jwk.crv),
      x: String(jwk.x),
      y: String(jwk.y),
      kid,
      alg: SIGNING_ALGORITHM,
      use: 'sig',
    };
    const privateKeyEncrypted = this.options.encryption.encrypt(await exportPKCS8(privateKey));
    await this.options.dataSource.transaction(async (manager) => {
      await manager.query(ROTATION_LOCK_SQL);
      const [row] = (await manager.query(
        `SELECT now() + ($1::int * interval '1 second') AS activates_at`,
        [publishLeadSeconds],
      )) as { activates_at: Date }[];
      const activatesAt = row!.activates_at;
      // Keys still signing (or scheduled to) hand over when the new one activates.
      await manager.query(
        `UPDATE signing_keys SET retired_at = $1
         WHERE retired_at IS NULL OR retired_at > $1`,
        [activatesAt],
      );
      await manager.insert(SigningKeyEntity, {
        kid,
        algorithm: SIGNING_ALGORITHM,
        publicJwk,
        privateKeyEncrypted,
        activatesAt,
        retiredAt: null,
      });
      await this.prune(manager);
    });
    this.cached = undefined;
    return kid;
  }

  /** Removes a key at once (e.g. suspected compromise): every token it signed stops verifying. */
  async deleteKey(kid: string): Promise<boolean> {
    const deleted = changedRows(
      await this.options.dataSource.query(`DELETE FROM signing_keys WHERE kid = $1 RETURNING kid`, [
        kid,
      ]),
    );
    this.cached = undefined;
    return deleted.length > 0;
  }

  /** The key to sign with now. */
  async signingKey(): Promise<ActiveSigningKey> {
    const now = Date.now();
    if (this.cached && now < this.cached.until) return this.cached.key;
    const key = await this.loadActive();
    if (!key) throw new Error('no signing key is active; run ensureSigningKey() or rotate');
    const retiresAt = key.retiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    this.cached = { key, until: Math.min(now + this.cacheMs, retiresAt) };
    return key;
  }

  /** The public keys verifiers need: every key that may have signed a still-valid token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = (await this.options.dataSource.query(
      `SELECT public_jwk FROM signing_keys
       WHERE retired_at IS NULL OR retired_at > now() - ($1::int * interval '1 second')
       ORDER BY activates_at DESC`,
      [this.publishAfterRetirementSeconds],
    )) as { public_jwk: JWK }[];
    return { keys: rows.map((row) => row.public_jwk) };
  }

  private async prune(manager: { query(sql: string, params?: unknown[]): Promise<unknown> }) {
    await manager.query(
      `DELETE FROM signing_keys WHERE retired_at < now() - ($1::int * interval '1 second')`,
      [this.publishAfterRetirementSeconds],
    );
  }

  private async loadActive(): Promise<ActiveSigningKey | undefined> {
    const [row] = (await this.options.dataSource.query(
      `SELECT kid, private_key_encrypted, retired_at FROM signing_keys
       WHERE activates_at <= now() AND (retired_at IS NULL OR retired_at > now())
       ORDER BY activates_at DESC LIMIT 1`,
    )) as { kid: string; private_key_encrypted: string; retired_at: Date | null }[];
    if (!row) return undefined;
    const pem = this.options.encryption.decrypt(row.private_key_encrypted);
    return {
      kid: row.kid,
      privateKey: await importPKCS8(pem, SIGNING_ALGORITHM),
      retiresAt: row.retired_at,
    };
  }
}
