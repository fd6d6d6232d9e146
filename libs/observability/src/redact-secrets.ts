/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

// Field names that hold a secret whatever their value looks like (matched case-insensitively on
// the whole name or a `_`/`-`-separated part: `password`, `newPassword`, `x-api-key`...).
const SECRET_KEY =
  /(pass(word|phrase)?|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential|signature)$/i;

// Secrets that leak inside free text (an error message quoting a header, a URL with a token).
const SECRET_TEXT: readonly RegExp[] = [
  // A JWT or context token: three base64url parts, the first a JSON header ("eyJ").
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g,
  // The platform's API keys: tnt_<prefix>_<secret>.
  /\btnt_[0-9a-f]{12}_[0-9A-Za-z]{16,}\b/g,
  // `Bearer <anything>` and `Basic <anything>` credentials.
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g,
  // A password in a connection URL: scheme://user:password@host.
  /(?<=:\/\/[^:/@\s]+:)[^@/\s]+(?=@)/g,
];

const MAX_DEPTH = 8;

/** `text` with every secret pattern replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const pattern of SECRET_TEXT) {
    out = out.replace(pattern, (match) =>
      /^(Bearer|Basic)\s/.test(match) ? `${match.split(/\s+/)[0]} ${REDACTED}` : REDACTED,
    );
  }
  return out;
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of a log line's fields with secrets replaced: values under secret-sounding keys
 * entirely, and token-, key- and password-shaped text inside any string. Depth-bounded and
 * cycle-safe; non-plain objects (dates, buffers) are kept as they are.
 */
export function redactSecrets(
  value: unknown,
  depth = 0,
  seen = new WeakMap<object, unknown>(),
): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  // A cycle points at the copy, so the output keeps the input's shape ("[Circular]" in JSON).
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(redactSecrets(item, depth + 1, seen));
    return copy;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = redactField(key, inner, depth + 1, seen);
  }
  return out;
}

/** One field's value, redacted by its key (a secret-sounding name) and by its content. */
export function redactField(
  key: string,
  value: unknown,
  depth = 0,
  seen = new WeakMap<object, unknown>(),
): unknown {
  if (isSecretKey(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  return redactSecrets(value, depth, seen);
}
