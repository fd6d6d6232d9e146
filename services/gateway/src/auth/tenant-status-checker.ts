import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { IdentityClient } from './identity-client';
import { IdentityUnavailableError } from './identity-client';

export type TenantStatus = 'active' | 'suspended' | 'deleted' | 'unknown';

const statusBody = z.object({
  tenantId: z.string(),
  status: z.enum(['active', 'suspended', 'deleted']),
});

export interface TenantStatusCheckerOptions {
  readonly identity: IdentityClient;
  /** A suspension takes effect within this time. */
  readonly cacheMs: number;
  readonly maxEntries?: number;
}

/**
 * The lifecycle status of tenants, from identity, cached for a few seconds. When identity cannot
 * answer and nothing is cached, the caller fails closed (503).
 */
export class TenantStatusChecker {
  private readonly cache: LRUCache<string, TenantStatus, string>;

  constructor(private readonly options: TenantStatusCheckerOptions) {
    this.cache = new LRUCache({
      max: options.maxEntries ?? 50_000,
      ttl: options.cacheMs,
      fetchMethod: (tenantId, _stale, { context }) => this.lookUp(tenantId, context),
    });
  }

  async statusOf(tenantId: string, requestId: string): Promise<TenantStatus> {
    return (await this.cache.fetch(tenantId, { context: requestId })) ?? 'unknown';
  }

  private async lookUp(tenantId: string, requestId: string): Promise<TenantStatus> {
    const response = await this.options.identity.request(
      'GET',
      `/internal/v1/tenants/${encodeURIComponent(tenantId)}/status`,
      undefined,
      requestId,
    );
    if (response.status === 404) return 'unknown';
    const body = statusBody.safeParse(response.body);
    if (response.status !== 200 || !body.success || body.data.tenantId !== tenantId) {
      throw new IdentityUnavailableError(`unexpected tenant status answer ${response.status}`);
    }
    return body.data.status;
  }
}
