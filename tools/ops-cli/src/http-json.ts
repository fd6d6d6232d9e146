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
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new PlatformUnreachableError(`cannot reach ${new URL(url).origin}: ${why}`);
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
