import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE } from './problem-details';
import type { HttpProblem } from './problem-details';
import { requestIdOf } from './request-id';

/** Writes `problem` as `application/problem+json`, with the request path and id to quote in support. */
export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  const requestId = requestIdOf(req);
  // The path only: a query string may hold things that do not belong in an error body.
  const body = {
    ...problem.toDocument(req.originalUrl.split('?')[0]),
    ...(requestId ? { requestId } : {}),
  };
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.setHeader('content-type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  res.setHeader('cache-control', 'no-store');
  res.send(JSON.stringify(body));
}
