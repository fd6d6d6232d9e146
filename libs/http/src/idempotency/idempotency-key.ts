import { HttpProblem } from '../problem-details';

/** The request header (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set to `true` on a response that repeats a stored one instead of running the handler again. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

// Visible ASCII only: the key goes into logs, an event-id derivation and a text column as is.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
// The draft's form is a Structured Field sf-string (RFC 8941); Stripe's clients send it bare.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

export type ParsedIdempotencyKey =
  | { readonly kind: 'absent' }
  | { readonly kind: 'valid'; readonly key: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Reads an `Idempotency-Key` header value: 1..255 visible ASCII characters, sent bare
 * (`abc-123`) or as a quoted sf-string (`"abc-123"`, the same key). A repeated header arrives
 * joined with ", " and is refused, since the space is not visible ASCII.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): ParsedIdempotencyKey {
  if (header === undefined) return { kind: 'absent' };
  if (Array.isArray(header))
    return { kind: 'invalid', reason: 'the header appears more than once' };
  const quoted = SF_STRING.exec(header);
  const key = quoted ? (quoted[1] ?? '').replace(/\\(["\\])/g, '$1') : header;
  if (key.length === 0) return { kind: 'invalid', reason: 'the key is empty' };
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return {
      kind: 'invalid',
      reason: `the key is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`,
    };
  }
  if (!VISIBLE_ASCII.test(key)) {
    return { kind: 'invalid', reason: 'the key may hold visible ASCII characters only' };
  }
  return { kind: 'valid', key };
}

export function invalidIdempotencyKey(reason: string): HttpProblem {
  return new HttpProblem({
    status: 400,
    title: 'Invalid Idempotency-Key',
    slug: 'invalid-idempotency-key',
    detail: `The Idempotency-Key header is invalid: ${reason}.`,
  });
}

export function missingIdempotencyKey(): HttpProblem {
  return new HttpProblem({
    status: 400,
    title: 'Idempotency-Key required',
    slug: 'idempotency-key-required',
    detail: 'This operation needs an Idempotency-Key header, so a retried request runs only once.',
  });
}

export function idempotencyKeyReused(): HttpProblem {
  return new HttpProblem({
    status: 422,
    title: 'Idempotency-Key reused',
    slug: 'idempotency-key-reused',
    detail:
      'This Idempotency-Key was already used with a different request (method, path, parameters or body).',
  });
}

export function idempotentRequestInProgress(retryAfterSeconds: number): HttpProblem {
  return new HttpProblem({
    status: 409,
    title: 'Request in progress',
    slug: 'idempotent-request-in-progress',
    detail: 'A request with this Idempotency-Key is still being processed; retry shortly.',
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
}
