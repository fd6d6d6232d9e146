import { randomUUID } from 'node:crypto';
import { CONTEXT_HEADERS, signContextToken } from '@tenantry/tenancy';
import type { ContextTokenSigningKey } from '@tenantry/tenancy';
import { GATEWAY_SERVICE_ACTOR, PLATFORM_TENANT_ID } from '../auth/identity-client';
import type { OpenApiCatalog } from './openapi-catalog';

export interface OpenApiRefresherOptions {
  readonly catalog: OpenApiCatalog;
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly contextTokenKey: ContextTokenSigningKey;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly log: { warn(message: string, meta?: Record<string, unknown>): void };
}

/**
 * Fetches each service's `GET /openapi.json` at start and every `intervalMs`. A service that
 * cannot be reached keeps its last document; the request carries a platform context token, so it
 * works whether or not the service lists `/openapi.json` among its public paths.
 */
export class OpenApiRefresher {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OpenApiRefresherOptions) {}

  async refresh(): Promise<void> {
    await Promise.all(
      Object.entries(this.options.serviceUrls).map(([service, url]) => this.fetchOne(service, url)),
    );
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async fetchOne(service: string, baseUrl: string): Promise<void> {
    const requestId = randomUUID();
    try {
      const token = await signContextToken(
        { tenantId: PLATFORM_TENANT_ID, actor: GATEWAY_SERVICE_ACTOR, requestId },
        this.options.contextTokenKey,
        { ttlSeconds: 30, audience: service },
      );
      const response = await fetch(new URL('/openapi.json', baseUrl), {
        headers: {
          accept: 'application/json',
          [CONTEXT_HEADERS.contextToken]: token,
          [CONTEXT_HEADERS.tenantId]: PLATFORM_TENANT_ID,
          [CONTEXT_HEADERS.actorType]: GATEWAY_SERVICE_ACTOR.type,
          [CONTEXT_HEADERS.actorId]: GATEWAY_SERVICE_ACTOR.id,
          [CONTEXT_HEADERS.requestId]: requestId,
        },
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`status ${response.status}`);
      }
      this.options.catalog.update(service, await response.json());
    } catch (error) {
      this.options.log.warn('openapi document not refreshed; keeping the last one', {
        service,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
