import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { HttpLogger } from './http-logger';
import { HttpProblem } from './problem-details';
import { malformedPathParam } from './request-text';
import { requestIdOf } from './request-id';
import { sendProblem } from './send-problem';
import { validationProblem } from './validation-problem';

export interface ErrorHandlerOptions {
  readonly logger: HttpLogger;
}

/** What http-errors errors (body-parser's, the router's) look like; `type` is body-parser's code. */
interface ClientHttpError {
  readonly status: number;
  readonly type?: unknown;
  readonly code?: unknown;
}

/** An error its library marked as the client's fault (4xx), whatever produced it. */
function isClientHttpError(error: unknown): error is Error & ClientHttpError {
  if (!(error instanceof Error)) return false;
  const status = (error as Partial<ClientHttpError>).status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500;
}

const unreadableBody = (detail: string): HttpProblem =>
  new HttpProblem({ status: 400, title: 'Bad request', slug: 'bad-request', detail });

/**
 * Fixed texts for the client errors of body-parser and the router: their own messages may echo
 * the body or path back. Anything else marked 4xx keeps its status with a generic text, so a
 * client's mistake is never reported as the server's.
 */
function clientErrorProblem(error: Error & ClientHttpError): HttpProblem {
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
      return unreadableBody('The request body could not be read.');
    default:
      break;
  }
  // A decompression stream's failure (zlib `Z_DATA_ERROR`, brotli `ERR__ERROR_FORMAT_...`):
  // body-parser passes it on as a 400 without a type.
  if (error.type === undefined && typeof error.code === 'string') {
    return unreadableBody('The request body could not be decoded with its Content-Encoding.');
  }
  return new HttpProblem({
    status: error.status,
    title: error.status === 400 ? 'Bad request' : 'Request refused',
    slug: error.status === 400 ? 'bad-request' : 'client-error',
    detail: 'The request could not be processed as sent.',
  });
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
    } else if (error instanceof URIError) {
      // Percent-decoding a client's path (the router's params, a path-to-regexp matcher left
      // on its default decoder): their input, not our failure.
      problem = malformedPathParam();
    } else if (isClientHttpError(error)) {
      problem = clientErrorProblem(error);
    } else {
      problem = internalError();
    }
    if (problem.status >= 500) {
      logger.error('request failed', { ...where, status: problem.status, error: describe(error) });
    }
    sendProblem(req, res, problem);
  };
}
