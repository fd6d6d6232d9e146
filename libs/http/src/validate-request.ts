import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { requestValueProblem, inspectRequestValue } from './request-text';
import { validationProblem } from './validation-problem';
import type { RequestPart } from './validation-problem';

/**
 * A middleware that validates one part of the request, and the typed accessor for what it parsed:
 *
 *   const body = validateBody(z.strictObject({ name: z.string() }));
 *   router.post('/things', body, (req, res) => res.json(create(body.value(req))));
 *
 * The parsed value lives beside the request rather than in `req.body` / `res.locals`, which are
 * untyped (and `req.query` is read-only in express 5).
 */
export interface RequestValidator<T> extends RequestHandler {
  /** The parsed value; throws when the middleware did not run for this request (a wiring bug). */
  value(req: Request): T;
}

function validate<S extends z.ZodType>(
  part: RequestPart,
  schema: S,
): RequestValidator<z.output<S>> {
  const parsed = new WeakMap<Request, z.output<S>>();
  const middleware: RequestHandler = async (req, _res, next) => {
    // Before the schema: a string schema would accept NUL, which the database then refuses.
    const finding = inspectRequestValue(req[part]);
    if (finding) {
      next(requestValueProblem(finding, part));
      return;
    }
    const result = await schema.safeParseAsync(req[part]);
    if (!result.success) {
      next(validationProblem(result.error, part));
      return;
    }
    parsed.set(req, result.data);
    next();
  };
  const value = (req: Request): z.output<S> => {
    if (!parsed.has(req)) {
      throw new Error(
        `validate${part[0]?.toUpperCase()}${part.slice(1)} did not run for this route`,
      );
    }
    return parsed.get(req) as z.output<S>;
  };
  return Object.assign(middleware, { value });
}

/**
 * Validates the JSON body. Pass a strict object (`z.strictObject`) so unknown fields are refused
 * with a 400 instead of silently dropped.
 */
export function validateBody<S extends z.ZodType>(schema: S): RequestValidator<z.output<S>> {
  return validate('body', schema);
}

/** Validates the query string (values arrive as strings; use `z.coerce` for numbers). */
export function validateQuery<S extends z.ZodType>(schema: S): RequestValidator<z.output<S>> {
  return validate('query', schema);
}

/** Validates route parameters. */
export function validateParams<S extends z.ZodType>(schema: S): RequestValidator<z.output<S>> {
  return validate('params', schema);
}
