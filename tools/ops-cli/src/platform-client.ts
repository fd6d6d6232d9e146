import { UsageError } from './exit-codes';
import type { FetchLike } from './http-json';
import { httpJson } from './http-json';

export interface OperatorSession {
  readonly accessToken: string;
  readonly operatorId: string;
}

export interface PlatformClientOptions {
  readonly apiUrl: string;
  readonly email: string | undefined;
  readonly password: string | undefined;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
}

/**
 * The gateway as an operator sees it: logs in once at `POST /v1/operators/token` and sends the
 * operator token on every call, so identity checks the operator's role and audits the act.
 */
export class PlatformClient {
  private session: Promise<OperatorSession> | undefined;
  private readonly fetchFn: FetchLike;

  constructor(private readonly options: PlatformClientOptions) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  logIn(): Promise<OperatorSession> {
    const { email, password } = this.options;
    if (!email || !password) {
      throw new UsageError(
        'an operator credential is needed: set TENANTRY_OPERATOR_EMAIL (or --email) and TENANTRY_OPERATOR_PASSWORD',
      );
    }
    this.session ??= httpJson<OperatorSession>(
      this.fetchFn,
      `${this.options.apiUrl}/v1/operators/token`,
      { method: 'POST', body: { email, password }, timeoutMs: this.options.timeoutMs },
    );
    return this.session;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { accessToken } = await this.logIn();
    return httpJson<T>(this.fetchFn, `${this.options.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}` },
      body,
      timeoutMs: this.options.timeoutMs,
    });
  }
}
