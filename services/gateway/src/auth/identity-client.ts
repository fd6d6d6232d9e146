import { randomUUID } from 'node:crypto';
import { CONTEXT_HEADERS, signContextToken } from '@tenantry/tenancy';
import type { ContextTokenSigningKey, TenantContext } from '@tenantry/tenancy';

/** The gateway speaking for itself (not for a tenant) to identity's internal routes. */
export const PLATFORM_TENANT_ID = 'platform';
export const GATEWAY_SERVICE_ACTOR = { type: 'service', id: 'gateway' } as const;

export class IdentityUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityUnavailableError';
  }
}

export interface IdentityResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface IdentityClientOptions {
  readonly baseUrl: string;
  readonly contextTokenKey: ContextTokenSigningKey;
  readonly timeoutMs: number;
}

/**
 * Calls identity's internal routes with a context token signed for the platform tenant and the
 * gateway's service actor, so identity treats them like any other signed request. Network
 * failures, timeouts and 5xx become {@link IdentityUnavailableError}: the caller fails closed.
 */
export class IdentityClient {
  constructor(private readonly options: IdentityClientOptions) {}

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    requestId: string = randomUUID(),
  ): Promise<IdentityResponse> {
    const context: TenantContext = {
      tenantId: PLATFORM_TENANT_ID,
      actor: GATEWAY_SERVICE_ACTOR,
      requestId,
    };
    const token = await signContextToken(context, this.options.contextTokenKey, {
      ttlSeconds: 30,
      audience: 'identity',
    });
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.baseUrl), {
        method,
        headers: {
          accept: 'application/json',
          [CONTEXT_HEADERS.contextToken]: token,
          [CONTEXT_HEADERS.tenantId]: context.tenantId,
          [CONTEXT_HEADERS.actorType]: context.actor.type,
          [CONTEXT_HEADERS.actorId]: context.actor.id,
          [CONTEXT_HEADERS.requestId]: requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new IdentityUnavailableError(`identity ${method} ${path} failed`, { cause: error });
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new IdentityUnavailableError(`identity ${method} ${path} answered ${response.status}`);
    }
    let parsed: unknown;
    try {
      const text = await response.text();
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new IdentityUnavailableError(`identity ${method} ${path} sent an unreadable body`, {
        cause: error,
      });
    }
    return { status: response.status, body: parsed };
  }
}
