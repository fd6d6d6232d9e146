import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { HttpLogger } from './http-logger';
import { HttpProblem } from './problem-details';
import { requestIdOf } from './request-id';
import { sendProblem } from './send-problem';
import { validationProblem } from './validation-problem';

export interface ErrorHandlerOptions {
  readonly logger: HttpLogger;
}

/** What body-parser's (http-errors) errors look like; `type` is its stable reason code. */
interface BodyParserError {
  readonly status: number;
  readonly type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    error instanceof Error &&
    typeof (error as Partial<BodyParserError>).type === 'string' &&
    typeof (error as Partial<BodyParserError>).status === 'number'
  );
}

/** Fixed texts for body-parser's failures: its own messages may echo the body back. */
function bodyParserProblem(error: BodyParserError): HttpProblem | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpProblem({
        status: 400,
        title: 'Malformed request body',
        slug: 'malformed-body',
        detail: 'The request body is not valid JSON.',
      });
    case 'entity.too.large':
      return new HttpProblem({
        status: 413,
        title: 'Request body too large',
        slug: 'payload-too-large',
        detail: 'The request body exceeds the size this endpoint accepts.',
      });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpProblem({
        status: 415,
        title: 'Unsupported media type',
        slug: 'unsupported-media-type',
        detail: 'The request body uses a charset or content encoding this service does not accept.',
      });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return new HttpProblem({
        status: 400,
        title: 'Bad request',
        slug: 'bad-request',
        detail: 'The request body could not be read.',
      });
    default:
      return undefined;
  }
}

function describe(error: unknown): Record<string, unknown> {
  return error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack, cause: error.cause }
    : { value: String(error) };
}

const internalError = (): HttpProblem =>
  new HttpProblem({ status: 500, title: 'Internal server error', slug: 'internal' });

/**
 * The last middleware: every error becomes problem+json. Anything not known to be safe for the
 * client is a generic 500 whose details go to the log only.
 */
export function errorHandler({ logger }: ErrorHandlerOptions): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const where = { method: req.method, path: req.path, requestId: requestIdOf(req) };
    if (res.headersSent) {
      // Too late for a problem body; express's default handler aborts the connection.
      logger.error('error after the response started', { ...where, error: describe(error) });
      next(error);
      return;
    }
    let problem: HttpProblem;
    if (error instanceof HttpProblem) {
      problem = error;
    } else if (error instanceof z.core.$ZodError) {
      problem = validationProblem(error);
    } else if (isBodyParserError(error)) {
      problem = bodyParserProblem(error) ?? internalError();
    } else {
      problem = internalError();
    }
    if (problem.status >= 500) {
      logger.error('request failed', { ...where, status: problem.status, error: describe(error) });
    }
    sendProblem(req, res, problem);
  };
}
