import { HttpProblem } from './problem-details';
import type { RequestPart } from './validation-problem';

/**
 * Deepest nesting of objects and arrays a request body may have. No API body needs more than a
 * handful of levels; far deeper ones would overflow the stack of every recursive step after
 * parsing (validation, re-serialising at the gateway, logging).
 */
export const MAX_JSON_DEPTH = 64;

/** Why a string is refused: PostgreSQL cannot store NUL in text; a lone surrogate is not Unicode. */
export type UnsafeTextReason = 'nul' | 'lone-surrogate';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSAFE_CHARACTERS = new RegExp(`\\u0000|${LONE_SURROGATE.source}`, 'g');

export function unsafeTextReason(text: string): UnsafeTextReason | undefined {
  if (text.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(text)) return 'lone-surrogate';
  return undefined;
}

const REASON_TEXT: Readonly<Record<UnsafeTextReason, string>> = {
  nul: 'contains a NUL character',
  'lone-surrogate': 'contains a lone UTF-16 surrogate',
};

/** A finding of {@link inspectRequestValue}: what is wrong and where (dotted, like validation). */
export type RequestValueFinding =
  | { readonly kind: 'too-deep' }
  | { readonly kind: 'unsafe-text'; readonly path: string; readonly reason: UnsafeTextReason };

/**
 * Walks a parsed value (JSON body, query, params) with an explicit stack, never recursion, so a
 * hostile depth cannot overflow it: the first string (key or value) that cannot be stored, or a
 * nesting deeper than `maxDepth`.
 */
export function inspectRequestValue(
  value: unknown,
  maxDepth = MAX_JSON_DEPTH,
): RequestValueFinding | undefined {
  const pending: { value: unknown; path: string; depth: number }[] = [
    { value, path: '', depth: 0 },
  ];
  const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value: current, path, depth } = item;
    if (typeof current === 'string') {
      const reason = unsafeTextReason(current);
      if (reason) return { kind: 'unsafe-text', path, reason };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { kind: 'too-deep' };
    const entries: [string, unknown][] = Array.isArray(current)
      ? current.map((element, index) => [String(index), element])
      : Object.entries(current);
    for (const [key, element] of entries) {
      const reason = unsafeTextReason(key);
      // A key is reported as the path to it, so the client can find it.
      if (reason) return { kind: 'unsafe-text', path: join(path, key), reason };
      pending.push({ value: element, path: join(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}

/** The 400 for a finding in `part` of the request; never echoes the offending text. */
export function requestValueProblem(finding: RequestValueFinding, part: RequestPart): HttpProblem {
  if (finding.kind === 'too-deep') {
    return new HttpProblem({
      status: 400,
      title: 'Request too deeply nested',
      slug: 'too-deeply-nested',
      detail: `The request ${part} nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`,
    });
  }
  return new HttpProblem({
    status: 400,
    title: 'Request validation failed',
    slug: 'validation-failed',
    detail: `The request ${part} is invalid.`,
    extensions: {
      // A refused key is part of its own path: shown with U+FFFD in place of what was refused.
      errors: [
        {
          path: finding.path.replace(UNSAFE_CHARACTERS, '\ufffd'),
          message: `The value ${REASON_TEXT[finding.reason]}.`,
        },
      ],
    },
  });
}

/** Throws the 400 when `value`, a part of the request, has unstorable text or is too deep. */
export function assertSafeRequestValue(value: unknown, part: RequestPart): void {
  const finding = inspectRequestValue(value);
  if (finding) throw requestValueProblem(finding, part);
}

/**
 * The decoder for path parameters (path-to-regexp's `decode`): percent-decoding that refuses,
 * with a 400, what `decodeURIComponent` cannot decode (`%zz`, `%`, overlong or surrogate UTF-8)
 * and what decodes to unstorable text (`%00`), instead of throwing a URIError that ends in a 500.
 */
export function decodePathParam(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
    throw malformedPathParam('is not valid percent-encoded UTF-8');
  }
  const reason = unsafeTextReason(decoded);
  if (reason) throw malformedPathParam(REASON_TEXT[reason]);
  return decoded;
}

export function malformedPathParam(why = 'is not valid percent-encoded UTF-8'): HttpProblem {
  return new HttpProblem({
    status: 400,
    title: 'Malformed path parameter',
    slug: 'malformed-path-parameter',
    detail: `A path parameter ${why}.`,
  });
}
