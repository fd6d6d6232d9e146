import type { BuiltInRole } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import { unauthorized } from '@tenantry/http';
import { apiKeyFormat } from '../../domain/api-key-format';
import { digestsEqual, sha256 } from '../../domain/secret-token';
import { ApiKeyPrefixEntity } from '../../persistence/entities/api-key-prefix.entity';
import { ApiKeyEntity } from '../../persistence/entities/api-key.entity';
import { TenantEntity } from '../../persistence/entities/tenant.entity';
import type { PublicTenantStatus } from '../../domain/tenant-lifecycle';
import { isErased, publicStatusOf } from '../../domain/tenant-lifecycle';
import type { IdentityDeps } from '../identity-deps';

export interface VerifiedApiKey {
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly role: BuiltInRole;
  readonly expiresAt: string | null;
  /** Beyond the gateway contract (additive): saves a status call for a suspended tenant. */
  readonly tenantStatus: PublicTenantStatus;
}

/** `last_used_at` is written at most this often per key, so a busy key costs no writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

const refused = () => unauthorized('The API key is not valid.');

/** Checks a presented key: known prefix, matching secret (constant time), not revoked or expired. */
export async function verifyApiKey(deps: IdentityDeps, presented: string): Promise<VerifiedApiKey> {
  const parsed = apiKeyFormat.parse(presented);
  if (!parsed) throw refused();
  // The global lookup yields only a tenant id; the key itself is read inside that tenant.
  const lookup = await deps.dataSource.manager.findOneBy(ApiKeyPrefixEntity, {
    prefix: parsed.prefix,
  });
  if (!lookup) throw refused();
  return withTenant(deps.dataSource, lookup.tenantId, async (tx) => {
    const key = await tx.manager.findOneBy(ApiKeyEntity, { id: lookup.apiKeyId });
    const now = new Date();
    if (
      !key ||
      !digestsEqual(sha256(parsed.secret), key.secretHash) ||
      key.revokedAt ||
      (key.expiresAt && key.expiresAt <= now)
    ) {
      throw refused();
    }
    const tenant = await tx.manager.findOneBy(TenantEntity, { id: tx.tenantId });
    if (!tenant || isErased(tenant.status)) throw refused();
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await tx.manager.update(ApiKeyEntity, { id: key.id }, { lastUsedAt: now });
    }
    return {
      apiKeyId: key.id,
      tenantId: key.tenantId,
      role: key.role,
      expiresAt: key.expiresAt?.toISOString() ?? null,
      tenantStatus: publicStatusOf(tenant.status),
    };
  });
}
