import type { TenantTransaction } from '@tenantry/db';
import type { PurgingService } from '../domain/tenant-lifecycle';
import { changedRows } from './changed-rows';

export interface PurgeConfirmation {
  readonly service: string;
  readonly requestedAt: Date;
  readonly confirmedAt: Date | null;
}

/** Which services owe, or gave, their purge confirmation for the transaction's tenant. */
export const purgeConfirmations = {
  async request(
    tx: TenantTransaction,
    services: readonly PurgingService[],
    at: Date,
  ): Promise<void> {
    await tx.manager.query(
      `INSERT INTO tenant_purge_confirmations (tenant_id, service, requested_at)
       SELECT $1, service, $3 FROM unnest($2::text[]) AS s(service)
       ON CONFLICT (tenant_id, service) DO NOTHING`,
      [tx.tenantId, services, at],
    );
  },

  /** Records one service's confirmation; false when it had confirmed already (or owed none). */
  async confirm(
    tx: TenantTransaction,
    service: string,
    eventId: string,
    at: Date,
  ): Promise<boolean> {
    const rows = changedRows<{ service: string }>(
      await tx.manager.query(
        `UPDATE tenant_purge_confirmations
            SET confirmed_at = $3, confirmation_event_id = $4
          WHERE tenant_id = $1 AND service = $2 AND confirmed_at IS NULL
          RETURNING service`,
        [tx.tenantId, service, at, eventId],
      ),
    );
    return rows.length > 0;
  },

  async list(tx: TenantTransaction): Promise<PurgeConfirmation[]> {
    const rows = (await tx.manager.query(
      `SELECT service, requested_at, confirmed_at FROM tenant_purge_confirmations
        WHERE tenant_id = $1 ORDER BY service`,
      [tx.tenantId],
    )) as { service: string; requested_at: Date; confirmed_at: Date | null }[];
    return rows.map((row) => ({
      service: row.service,
      requestedAt: row.requested_at,
      confirmedAt: row.confirmed_at,
    }));
  },
};
