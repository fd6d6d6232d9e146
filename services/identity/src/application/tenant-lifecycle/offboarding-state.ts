import type { TenantTransaction } from '@tenantry/db';
import type { TenantStatus } from '../../domain/tenant-lifecycle';
import { PURGING_SERVICES } from '../../domain/tenant-lifecycle';
import type { TenantEntity } from '../../persistence/entities/tenant.entity';
import { purgeConfirmations } from '../../persistence/purge-confirmations';

export interface OffboardingState {
  readonly tenantId: string;
  readonly status: TenantStatus;
  readonly deletionRequestedAt: string | null;
  readonly purgeAfter: string | null;
  readonly purgeStartedAt: string | null;
  readonly deletedAt: string | null;
  /** Services whose purge confirmation arrived, with when. */
  readonly confirmed: { service: string; confirmedAt: string }[];
  /** Services identity still waits for (all of them before the purge starts). */
  readonly pending: string[];
}

/** Where a tenant's offboarding stands (read in the tenant's transaction: confirmations are RLS). */
export async function offboardingStateOf(
  tx: TenantTransaction,
  tenant: TenantEntity,
): Promise<OffboardingState> {
  const rows = await purgeConfirmations.list(tx);
  const confirmed = rows
    .filter((row) => row.confirmedAt !== null)
    .map((row) => ({ service: row.service, confirmedAt: (row.confirmedAt as Date).toISOString() }));
  const pending =
    tenant.status === 'deleting'
      ? [...PURGING_SERVICES]
      : rows.filter((row) => row.confirmedAt === null).map((row) => row.service);
  return {
    tenantId: tenant.id,
    status: tenant.status,
    deletionRequestedAt: tenant.deletionRequestedAt?.toISOString() ?? null,
    purgeAfter: tenant.purgeAfter?.toISOString() ?? null,
    purgeStartedAt: tenant.purgeStartedAt?.toISOString() ?? null,
    deletedAt: tenant.deletedAt?.toISOString() ?? null,
    confirmed,
    pending,
  };
}
