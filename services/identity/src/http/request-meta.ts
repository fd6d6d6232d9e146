import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { requestIdOf } from '@tenantry/http';

/** The request id and client IP a public route needs (no signed context there). */
export function requestMetaOf(req: Request): { requestId: string; clientIp: string } {
  return { requestId: requestIdOf(req) ?? randomUUID(), clientIp: req.ip ?? 'unknown' };
}
