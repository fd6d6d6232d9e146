import type { z } from 'zod';
import { HttpProblem } from './problem-details';

/** Where in the request a validation issue was found. */
export type RequestPart = 'body' | 'query' | 'params';

export interface ValidationIssue {
  /** Dotted path to the offending field (`items.0.sku`); empty for the value as a whole. */
  readonly path: string;
  readonly message: string;
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

/** Flattens zod issues into `{path, message}`; an unknown key becomes one issue per field. */
export function validationIssues(error: z.core.$ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue): ValidationIssue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: dotted([...issue.path, key]), message: 'Unknown field' }))
      : [{ path: dotted(issue.path), message: issue.message }],
  );
}

export function validationProblem(error: z.core.$ZodError, part?: RequestPart): HttpProblem {
  return new HttpProblem({
    status: 400,
    title: 'Request validation failed',
    slug: 'validation-failed',
    detail: part ? `The request ${part} is invalid.` : 'The request is invalid.',
    extensions: { errors: validationIssues(error) },
  });
}
