import http from 'node:http';
import https from 'node:https';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from '@tenantry/http';
import { isForwardableResponseHeader } from './upstream-headers';

export interface UpstreamRequest {
  readonly baseUrl: string;
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly pathAndQuery: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer | undefined;
}

export const badGateway = (cause?: unknown): HttpProblem =>
  new HttpProblem({
    status: 502,
    title: 'Bad gateway',
    slug: 'bad-gateway',
    detail: 'The service behind this route could not be reached or failed to answer.',
    cause,
  });

export const gatewayTimeout = (cause?: unknown): HttpProblem =>
  new HttpProblem({
    status: 504,
    title: 'Gateway timeout',
    slug: 'gateway-timeout',
    detail: 'The service behind this route did not answer in time.',
    cause,
  });

function isProblemDocument(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === PROBLEM_CONTENT_TYPE;
}

const parsedBases = new Map<string, URL>();

/** The configured upstream URLs, parsed once each (a handful, from configuration). */
function parsedBase(baseUrl: string): URL {
  let base = parsedBases.get(baseUrl);
  if (!base) {
    base = new URL(baseUrl);
    parsedBases.set(baseUrl, base);
  }
  return base;
}

/**
 * The URL to call: always the configured upstream's origin with the client's path. Resolving the
 * path against the base instead (`new URL(path, base)`) would let an absolute or `//host` path
 * replace the upstream, sending a freshly signed context to a host the client picked.
 */
export function upstreamTarget(baseUrl: string, pathAndQuery: string): URL {
  const base = parsedBase(baseUrl);
  if (!pathAndQuery.startsWith('/') || pathAndQuery.startsWith('//')) {
    throw new HttpProblem({
      status: 400,
      title: 'Bad request',
      slug: 'request-target-refused',
      detail: 'The request target must be a path starting with "/".',
    });
  }
  const target = new URL(`${base.origin}${pathAndQuery}`);
  if (target.origin !== base.origin) {
    throw new Error(`upstream target ${target.origin} left the upstream ${base.origin}`);
  }
  return target;
}

export interface UpstreamProxyOptions {
  /** Until the response headers arrive, and then the longest silence while streaming. */
  readonly timeoutMs: number;
}

/**
 * Forwards one request over pooled keep-alive connections and streams the answer back. Errors
 * before the answer starts become 502 / 504 problems (no upstream detail reaches the client),
 * as does a 5xx that is not a problem document; a failure mid-stream can only cut the
 * connection.
 */
export class UpstreamProxy {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 512 });

  constructor(private readonly options: UpstreamProxyOptions) {}

  forward(upstream: UpstreamRequest, clientRes: ServerResponse): Promise<void> {
    const target = upstreamTarget(upstream.baseUrl, upstream.pathAndQuery);
    const secure = target.protocol === 'https:';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (problem: HttpProblem): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.destroy();
        reject(problem);
      };
      const request = (secure ? https : http).request(target, {
        method: upstream.method,
        headers: upstream.headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      const timer = setTimeout(
        () => fail(gatewayTimeout(new Error(`no answer within ${this.options.timeoutMs} ms`))),
        this.options.timeoutMs,
      );
      request.on('error', (error) => fail(badGateway(error)));
      // The client went away: stop the upstream work it started.
      const onClientClose = (): void => {
        if (!clientRes.writableFinished) request.destroy();
      };
      clientRes.once('close', onClientClose);

      request.on('response', (response) => {
        if (settled) {
          response.resume();
          return;
        }
        settled = true;
        clearTimeout(timer);
        const status = response.statusCode ?? 502;
        if (status >= 500 && !isProblemDocument(response.headers['content-type'])) {
          // Services answer errors as problem documents that are safe to show; anything else at
          // 5xx (a crash page, a proxy's error page) may carry internals, so it stays here.
          response.resume();
          reject(badGateway(new Error(`upstream answered ${status} without a problem document`)));
          return;
        }
        response.setTimeout(this.options.timeoutMs, () => response.destroy());
        clientRes.statusCode = status;
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined && isForwardableResponseHeader(name)) {
            clientRes.setHeader(name, value);
          }
        }
        response.on('error', () => clientRes.destroy());
        response.on('aborted', () => clientRes.destroy());
        response.pipe(clientRes);
        response.on('end', () => resolve());
        clientRes.once('close', () => resolve());
      });

      if (upstream.body !== undefined && upstream.body.length > 0) request.end(upstream.body);
      else request.end();
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
