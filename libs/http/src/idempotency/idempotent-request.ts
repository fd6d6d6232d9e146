import type { Request, RequestHandler, Response } from 'express';
import { requireTenantContext } from '@tenantry/tenancy';
import type { HttpLogger } from '../http-logger';
import { requestIdOf } from '../request-id';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeyReused,
  idempotentRequestInProgress,
  invalidIdempotencyKey,
  missingIdempotencyKey,
  parseIdempotencyKey,
} from './idempotency-key';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from './idempotency-store';
import { requestFingerprint } from './request-fingerprint';

/** `required`: a request without the header is refused (400); `optional`: it runs as usual. */
export type IdempotencyMode = 'required' | 'optional';

/** Response headers a replay repeats; the rest (request id, dates, cookies) belong to one exchange. */
export const REPLAYED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'location',
  'content-location',
  'etag',
  'last-modified',
  'cache-control',
];

export interface IdempotentRequestOptions {
  readonly store: IdempotencyStore;
  readonly mode: IdempotencyMode;
  readonly method: string;
  /** The route's path pattern. */
  readonly path: string;
  /** The validated params, query and body of this request (what the fingerprint covers). */
  readonly input: (req: Request) => { params: unknown; query: unknown; body: unknown };
  readonly logger?: HttpLogger;
}

const keys = new WeakMap<Request, string>();

/**
 * The `Idempotency-Key` this request runs under, on routes declared with `idempotency` (after
 * its claim succeeded), so a handler can derive its event ids from it; undefined otherwise.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  return keys.get(req);
}

function storedStatus(status: number): boolean {
  // 409 and 429 say "not now", 5xx says "not done": the client should be able to try again.
  return (
    (status >= 200 && status < 300) ||
    (status >= 400 && status < 500 && status !== 409 && status !== 429)
  );
}

function replay(res: Response, response: StoredResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
  res.end(response.body);
}

/**
 * Holds back `res.end` until the response is recorded (or the key released), so a client that
 * got the answer and retries at once finds it stored rather than still running. Chunks written
 * earlier with `res.write` are collected too.
 */
function captureResponse(res: Response, settle: (response: StoredResponse) => Promise<void>): void {
  const chunks: Buffer[] = [];
  const collect = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string') {
      chunks.push(
        Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
      );
    } else if (chunk instanceof Uint8Array) {
      chunks.push(Buffer.from(chunk));
    }
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let ended = false;
  res.write = ((...args: unknown[]) => {
    collect(args[0], args[1]);
    return write(...args);
  }) as Response['write'];
  res.end = ((...args: unknown[]) => {
    if (ended) return end(...args);
    ended = true;
    const [chunk, encoding] = typeof args[0] === 'function' ? [] : args;
    collect(chunk, encoding);
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_RESPONSE_HEADERS) {
      const value = res.getHeader(name);
      if (value !== undefined)
        headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    void settle({ status: res.statusCode, headers, body: Buffer.concat(chunks) }).finally(() =>
      end(...args),
    );
    return res;
  }) as Response['end'];
}

/**
 * The middleware behind `ApiRoutes`' `idempotency` option: claims the key for this request's
 * tenant and actor, replays a completed request's response, refuses a reused key (422) or a key
 * still in use (409), and records the handler's response when it ends (only 2xx and final 4xx).
 */
export function idempotentRequest(options: IdempotentRequestOptions): RequestHandler {
  const { store, mode, method, path, logger } = options;
  return async (req, res, next) => {
    const parsed = parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER]);
    if (parsed.kind === 'invalid') {
      next(invalidIdempotencyKey(parsed.reason));
      return;
    }
    if (parsed.kind === 'absent') {
      next(mode === 'required' ? missingIdempotencyKey() : undefined);
      return;
    }
    const context = requireTenantContext('an idempotent request');
    const scope = {
      tenantId: context.tenantId,
      actorType: context.actor.type,
      actorId: context.actor.id,
      key: parsed.key,
    };
    const fingerprint = requestFingerprint({ method, path, ...options.input(req) });
    const outcome = await store.claim(scope, fingerprint);
    switch (outcome.kind) {
      case 'replay':
        replay(res, outcome.response);
        return;
      case 'mismatch':
        next(idempotencyKeyReused());
        return;
      case 'in-progress':
        next(idempotentRequestInProgress(outcome.retryAfterSeconds));
        return;
      case 'claimed':
        break;
    }
    const claim: IdempotencyClaim = outcome.claim;
    const where = { method: req.method, path: req.path, requestId: requestIdOf(req) };
    captureResponse(res, async (response) => {
      try {
        if (!storedStatus(response.status)) {
          await store.release(claim);
        } else if (!(await store.complete(claim, response))) {
          logger?.warn('idempotent request outlived its lease; its response was not stored', where);
        }
      } catch (error) {
        // The response still goes out; the key stays claimed until its lease runs out.
        logger?.error('could not record an idempotent response', {
          ...where,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    keys.set(req, parsed.key);
    next();
  };
}
