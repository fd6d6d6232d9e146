import type { IncomingHttpHeaders } from 'node:http';
import { HttpProblem, unauthorized } from '@tenantry/http';
import type { ApiKeyVerifier } from './api-key-verifier';
import { InvalidApiKeyError, looksLikeApiKey } from './api-key-verifier';
import type { AuthenticatedActor } from './authenticated-actor';
import { IdentityUnavailableError } from './identity-client';
import type { JwtVerifier } from './jwt-verifier';
import { InvalidAccessTokenError, OperatorTenantRequiredError } from './jwt-verifier';

/** The header an operator names the tenant it acts in with; read here, never forwarded. */
export const OPERATOR_TENANT_HEADER = 'x-operator-tenant';
export const API_KEY_HEADER = 'x-api-key';

export interface AuthenticationFailureLog {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** One generic answer for every bad credential: the reason goes to the log, not the client. */
const refused = (): HttpProblem => unauthorized('A valid bearer token or API key is required.', {});

export const authenticationUnavailable = (cause?: unknown): HttpProblem =>
  new HttpProblem({
    status: 503,
    title: 'Service unavailable',
    slug: 'authentication-unavailable',
    detail: 'Credentials cannot be verified right now; retry shortly.',
    headers: { 'retry-after': '1' },
    cause,
  });

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/**
 * Finds the request's one credential (`Authorization: Bearer <jwt | tnt_...>` or `x-api-key`) and
 * verifies it. Two credentials, or none, are refused: the gateway never guesses which one counts.
 */
export class RequestAuthenticator {
  constructor(
    private readonly jwt: JwtVerifier,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly log: AuthenticationFailureLog,
  ) {}

  async authenticate(headers: IncomingHttpHeaders, requestId: string): Promise<AuthenticatedActor> {
    const authorization = single(headers.authorization);
    const apiKeyHeader = single(headers[API_KEY_HEADER]);
    const fail = (reason: string): HttpProblem => {
      this.log.warn('request refused: authentication failed', { reason, requestId });
      return refused();
    };
    if (Array.isArray(headers.authorization) || Array.isArray(headers[API_KEY_HEADER])) {
      throw fail('repeated credential header');
    }
    let bearer: string | undefined;
    if (authorization !== undefined) {
      const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
      if (!match?.[1]) throw fail('authorization is not a bearer credential');
      bearer = match[1];
    }
    if (bearer !== undefined && apiKeyHeader !== undefined) throw fail('two credentials');
    const credential = bearer ?? apiKeyHeader;
    if (credential === undefined || credential === '') throw fail('no credential');

    try {
      if (looksLikeApiKey(credential)) return await this.apiKeys.verify(credential, requestId);
      if (apiKeyHeader !== undefined) throw fail('x-api-key is not an API key');
      return await this.jwt.verify(credential, single(headers[OPERATOR_TENANT_HEADER]));
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      if (error instanceof InvalidApiKeyError || error instanceof InvalidAccessTokenError) {
        throw fail(error.message);
      }
      if (error instanceof OperatorTenantRequiredError) {
        this.log.warn('request refused: bad operator tenant', { requestId });
        throw new HttpProblem({
          status: 400,
          title: 'Bad request',
          slug: 'bad-request',
          detail: `${OPERATOR_TENANT_HEADER} must be a tenant id.`,
        });
      }
      if (error instanceof IdentityUnavailableError) throw authenticationUnavailable(error);
      throw error;
    }
  }
}
