/** RFC 9457 problem details: the one error body shape every service returns. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://tenantry.dev/problems/';

/** Members beyond the standard five, e.g. `errors` for validation or `checks` for readiness. */
export type ProblemExtensions = Readonly<Record<string, unknown>>;

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [member: string]: unknown;
}

export interface HttpProblemInit {
  readonly status: number;
  readonly title: string;
  /** Last segment of the type URI; the type is `about:blank` without it. */
  readonly slug?: string;
  /** Shown to the client, so it must never carry internals. */
  readonly detail?: string;
  readonly extensions?: ProblemExtensions;
  /** Response headers that belong to the problem, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** For logs only; never serialised. */
  readonly cause?: unknown;
}

const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance']);

/** Throw (or pass to `next`) from any handler; the error handler turns it into the response. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  readonly extensions: ProblemExtensions;
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: HttpProblemInit) {
    super(init.detail ?? init.title, init.cause === undefined ? undefined : { cause: init.cause });
    if (!Number.isInteger(init.status) || init.status < 400 || init.status > 599) {
      throw new RangeError(`a problem status must be 400-599, got ${init.status}`);
    }
    this.name = 'HttpProblem';
    this.status = init.status;
    this.title = init.title;
    this.type = init.slug === undefined ? 'about:blank' : PROBLEM_TYPE_BASE + init.slug;
    this.detail = init.detail;
    // Extensions may not shadow the standard members: a client reads those first.
    this.extensions = Object.fromEntries(
      Object.entries(init.extensions ?? {}).filter(([name]) => !STANDARD_MEMBERS.has(name)),
    );
    this.headers = { ...init.headers };
  }

  toDocument(instance?: string): ProblemDocument {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
    };
  }
}

export interface RetryableProblemOptions {
  /** Sent as `Retry-After`, so well-behaved clients back off for that long. */
  readonly retryAfterSeconds?: number;
  readonly extensions?: ProblemExtensions;
}

function retryAfterHeader(seconds: number | undefined): Record<string, string> | undefined {
  return seconds === undefined
    ? undefined
    : { 'retry-after': String(Math.max(0, Math.ceil(seconds))) };
}

export function badRequest(detail?: string, extensions?: ProblemExtensions): HttpProblem {
  return new HttpProblem({
    status: 400,
    title: 'Bad request',
    slug: 'bad-request',
    detail,
    extensions,
  });
}

export function unauthorized(detail?: string, extensions?: ProblemExtensions): HttpProblem {
  return new HttpProblem({
    status: 401,
    title: 'Unauthorized',
    slug: 'unauthorized',
    detail,
    extensions,
  });
}

export function forbidden(detail?: string, extensions?: ProblemExtensions): HttpProblem {
  return new HttpProblem({
    status: 403,
    title: 'Forbidden',
    slug: 'forbidden',
    detail,
    extensions,
  });
}

export function notFound(detail?: string, extensions?: ProblemExtensions): HttpProblem {
  return new HttpProblem({
    status: 404,
    title: 'Not found',
    slug: 'not-found',
    detail,
    extensions,
  });
}

export function conflict(detail?: string, extensions?: ProblemExtensions): HttpProblem {
  return new HttpProblem({ status: 409, title: 'Conflict', slug: 'conflict', detail, extensions });
}

export function tooManyRequests(
  detail?: string,
  options: RetryableProblemOptions = {},
): HttpProblem {
  const { retryAfterSeconds, extensions } = options;
  return new HttpProblem({
    status: 429,
    title: 'Too many requests',
    slug: 'too-many-requests',
    detail,
    extensions,
    headers: retryAfterHeader(retryAfterSeconds),
  });
}

export function serviceUnavailable(
  detail?: string,
  options: RetryableProblemOptions = {},
): HttpProblem {
  const { retryAfterSeconds, extensions } = options;
  return new HttpProblem({
    status: 503,
    title: 'Service unavailable',
    slug: 'service-unavailable',
    detail,
    extensions,
    headers: retryAfterHeader(retryAfterSeconds),
  });
}
