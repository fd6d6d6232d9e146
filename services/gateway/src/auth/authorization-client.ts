import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { INTERNAL_AUTHZ_CHECK_PATH } from '@tenantry/contracts';
import type { AuthzCheckSubjectType, InternalAuthzCheckRequest } from '@tenantry/contracts';
import { CONTEXT_HEADERS, signContextToken } from '@tenantry/tenancy';
import type { ContextTokenSigningKey, TenantContext } from '@tenantry/tenancy';
import { GATEWAY_SERVICE_ACTOR, PLATFORM_TENANT_ID } from './identity-client';

/** Authorization could not give a decision (down, slow, 5xx, nonsense): the caller refuses. */
export class AuthorizationUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthorizationUnavailableError';
  }
}

export interface AuthorizationClientOptions {
  readonly baseUrl: string;
  readonly contextTokenKey: ContextTokenSigningKey;
  readonly timeoutMs: number;
}

const answerSchema = z.object({ decisions: z.record(z.string(), z.boolean()) });

/**
 * Asks authorization's internal decision endpoint, speaking as the gateway's service actor
 * (context token with audience `authorization`). Anything but a well-formed 200 that decides
 * every asked permission is {@link AuthorizationUnavailableError}: never read as "allowed".
 */
export class AuthorizationClient {
  constructor(private readonly options: AuthorizationClientOptions) {}

  async check(
    tenantId: string,
    subject: { type: AuthzCheckSubjectType; id: string },
    permissions: readonly string[],
    requestId: string = randomUUID(),
  ): Promise<Record<string, boolean>> {
    const context: TenantContext = {
      tenantId: PLATFORM_TENANT_ID,
      actor: GATEWAY_SERVICE_ACTOR,
      requestId,
    };
    const token = await signContextToken(context, this.options.contextTokenKey, {
      ttlSeconds: 30,
      audience: 'authorization',
    });
    const body: InternalAuthzCheckRequest = { tenantId, subject, permissions: [...permissions] };
    let response: Response;
    try {
      response = await fetch(new URL(INTERNAL_AUTHZ_CHECK_PATH, this.options.baseUrl), {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          [CONTEXT_HEADERS.contextToken]: token,
          [CONTEXT_HEADERS.tenantId]: context.tenantId,
          [CONTEXT_HEADERS.actorType]: context.actor.type,
          [CONTEXT_HEADERS.actorId]: context.actor.id,
          [CONTEXT_HEADERS.requestId]: requestId,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new AuthorizationUnavailableError('authorization check failed', { cause: error });
    }
    let parsed: unknown;
    try {
      const text = await response.text();
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new AuthorizationUnavailableError('authorization sent an unreadable body', {
        cause: error,
      });
    }
    // 4xx too: a refused call (bad token, wrong audience) is a misconfiguration, not a "no".
    if (response.status !== 200) {
      throw new AuthorizationUnavailableError(`authorization answered ${response.status}`);
    }
    const answer = answerSchema.safeParse(parsed);
    if (!answer.success || permissions.some((p) => answer.data.decisions[p] === undefined)) {
      throw new AuthorizationUnavailableError('authorization answered without every decision');
    }
    return answer.data.decisions;
  }
}
