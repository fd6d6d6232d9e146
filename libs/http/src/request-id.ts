import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { CONTEXT_HEADERS } from '@tenantry/tenancy';

export interface RequestIdOptions {
  /**
   * Reuse a well-formed incoming `x-request-id`. Only where the caller is trusted (a service behind
   * the gateway); at the edge a client could otherwise pick ids that collide with other tenants'.
   */
  readonly trustIncoming?: boolean;
  readonly generate?: () => string;
}

// Short and plain, so an id can go into logs and headers without escaping or log injection.
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

const ids = new WeakMap<Request, string>();

/** The id of this request, once the `requestId()` middleware has run. */
export function requestIdOf(req: Request): string | undefined {
  return ids.get(req);
}

/** Makes `id` the request's id and echoes it to the client. Internal: the signed context uses it. */
export function assignRequestId(req: Request, res: Response, id: string): void {
  ids.set(req, id);
  res.setHeader(CONTEXT_HEADERS.requestId, id);
}

/** First middleware: gives every request an id that logs, problems and the response share. */
export function requestId({
  trustIncoming = false,
  generate = randomUUID,
}: RequestIdOptions = {}): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers[CONTEXT_HEADERS.requestId];
    const reuse = trustIncoming && typeof incoming === 'string' && WELL_FORMED.test(incoming);
    assignRequestId(req, res, reuse ? incoming : generate());
    next();
  };
}
