import { randomUUID } from 'node:crypto';
import type { BuiltInRole } from '@tenantry/contracts';
import { ApiKeyCreatedEvent } from '@tenantry/contracts';
import { withCurrentTenant } from '@tenantry/db';
import { badRequest, forbidden } from '@tenantry/http';
import { accessPolicy } from '../../domain/access-policy';
import { apiKeyFormat } from '../../domain/api-key-format';
import { recordAudit } from '../../persistence/audit-trail';
import { ApiKeyPrefixEntity } from '../../persistence/entities/api-key-prefix.entity';
import { ApiKeyEntity } from '../../persistence/entities/api-key.entity';
import type { IdentityDeps } from '../identity-deps';
import { authorizeTenantActor } from '../tenant-access';

export interface CreatedApiKey {
  readonly apiKeyId: string;
  /** `tnt_<prefix>_<secret>`: shown once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly name: string;
  readonly role: BuiltInRole;
  readonly createdAt: string;
  readonly expiresAt: string | null;
}

/** Issues an API key for a machine client of the current tenant. */
export async function createApiKey(
  deps: IdentityDeps,
  input: { name: string; role: BuiltInRole; expiresAt?: Date | undefined },
): Promise<CreatedApiKey> {
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw badRequest('expiresAt must be in the future.');
  }
  return withCurrentTenant(deps.dataSource, async (tx) => {
    const who = await authorizeTenantActor(tx, 'api-keys:create');
    if (!accessPolicy.canManageRole(who.role, input.role)) {
      throw forbidden(`A ${who.role} cannot create a key with the ${input.role} role.`);
    }
    const generated = apiKeyFormat.generate();
    const row = {
      id: randomUUID(),
      tenantId: tx.tenantId,
      name: input.name,
      prefix: generated.prefix,
      secretHash: generated.secretHash,
      role: input.role,
      createdByType: who.actor.type,
      createdById: who.actor.id,
      createdAt: new Date(),
      expiresAt: input.expiresAt ?? null,
    };
    await tx.manager.insert(ApiKeyEntity, row);
    await tx.manager.insert(ApiKeyPrefixEntity, {
      prefix: row.prefix,
      tenantId: tx.tenantId,
      apiKeyId: row.id,
    });
    await recordAudit(tx, {
      action: 'api-key.created',
      targetType: 'api_key',
      targetId: row.id,
      details: { name: row.name, prefix: row.prefix, role: row.role },
    });
    const created = {
      apiKeyId: row.id,
      prefix: row.prefix,
      name: row.name,
      role: row.role,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt?.toISOString() ?? null,
    };
    await deps.outbox.publish(tx, ApiKeyCreatedEvent, {
      subject: row.id,
      data: { ...created, tenantId: tx.tenantId },
    });
    return { ...created, key: generated.key };
  });
}
