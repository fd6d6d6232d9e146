import express from 'express';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem-details';
import { assertSafeRequestValue } from './request-text';

const JSON_TYPES = ['application/json', 'application/*+json'];

function hasNonEmptyBody(headers: NodeJS.Dict<string | string[]>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Refuses (400), before any handler or the gateway's re-serialising sees them, a body nested
 * deeper than MAX_JSON_DEPTH and any string (key or value) in the body or the query that holds
 * NUL or a lone surrogate: PostgreSQL refuses those, so each route would otherwise find out with
 * a 500. Mounted for every request, so no route can forget it.
 */
const requireStorableText: RequestHandler = (req, _res, next) => {
  assertSafeRequestValue(req.query, 'query');
  assertSafeRequestValue(req.body, 'body');
  next();
};

/**
 * Parses JSON bodies up to `limit`, and refuses (415) a body of any other type rather than letting
 * a handler see `undefined` and guess. Bodiless requests pass untouched. Then refuses what no API
 * can store or should recurse into (see requireStorableText).
 */
export function jsonBody(limit: string | number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (hasNonEmptyBody(req.headers) && !req.is(JSON_TYPES)) {
      next(
        new HttpProblem({
          status: 415,
          title: 'Unsupported media type',
          slug: 'unsupported-media-type',
          detail: 'Send the request body as application/json.',
        }),
      );
      return;
    }
    next();
  };
  // strict: only objects and arrays at the top level, as every API body is one of those.
  return [
    requireJson,
    express.json({ limit, strict: true, type: JSON_TYPES }),
    requireStorableText,
  ];
}
