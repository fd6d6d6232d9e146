import express from 'express';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem-details';

const JSON_TYPES = ['application/json', 'application/*+json'];

function hasNonEmptyBody(headers: NodeJS.Dict<string | string[]>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Parses JSON bodies up to `limit`, and refuses (415) a body of any other type rather than letting
 * a handler see `undefined` and guess. Bodiless requests pass untouched.
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
  return [requireJson, express.json({ limit, strict: true, type: JSON_TYPES })];
}
