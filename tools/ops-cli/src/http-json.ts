import { OperationFailedError, PlatformUnreachableError } from './exit-codes';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface HttpJsonOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs: number;
}

/** `<status> <title>: <detail>` from an RFC 9457 problem, or the status alone. */
export function describeProblem(status: number, problem: Record<string, unknown> | undefined) {
  const title = typeof problem?.title === 'string' ? problem.title : undefined;
  const detail = typeof problem?.detail === 'string' ? problem.detail : undefined;
  if (title && detail) return `${status} ${title}: ${detail}`;
  return [String(status), title ?? detail].filter(Boolean).join(' ');
}

/** Why a fetch got no answer: the socket error's code (ECONNREFUSED...) or a timeout. */
export function networkReason(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * One JSON request: a network failure or timeout is PlatformUnreachableError (exit 3), a 4xx/5xx
 * is OperationFailedError carrying the problem+json body (exit 1).
 */
export async function httpJson<T>(
  fetchFn: FetchLike,
  url: string,
  options: HttpJsonOptions,
): Promise<T> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: options.method ?? 'GET',
      headers: {
        accept: 'application/json, application/problem+json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw new PlatformUnreachableError(
      `cannot reach ${new URL(url).origin}: ${networkReason(error, options.timeoutMs)}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const problem =
      body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
    throw new OperationFailedError(
      `${options.method ?? 'GET'} ${new URL(url).pathname}: ${describeProblem(response.status, problem)}`,
      problem,
    );
  }
  return body as T;
}
