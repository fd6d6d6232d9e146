import { createHash } from 'node:crypto';

/**
 * JSON with object members sorted by key at every level (RFC 8785's ordering; numbers and
 * strings as `JSON.stringify` writes them, which RFC 8785 adopts), so two requests that differ
 * only in member order have one fingerprint. Members whose value is undefined are left out, as
 * JSON does; `toJSON` (dates) is honoured.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value)) ?? 'null';
}

function sorted(value: unknown): unknown {
  const plain =
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
      ? (value as { toJSON: () => unknown }).toJSON()
      : value;
  if (typeof plain === 'bigint') return plain.toString();
  if (Array.isArray(plain)) return plain.map((item) => sorted(item) ?? null);
  if (plain === null || typeof plain !== 'object') return plain;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(plain).sort()) {
    const member = sorted((plain as Record<string, unknown>)[name]);
    if (member !== undefined) out[name] = member;
  }
  return out;
}

export interface FingerprintedRequest {
  readonly method: string;
  /** The route's declared path pattern (`/v1/plans/:planId`), not the concrete URL. */
  readonly path: string;
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

/** SHA-256 (hex) over the method, route and validated input: what "the same request" means. */
export function requestFingerprint(request: FingerprintedRequest): string {
  const document = canonicalJson({
    method: request.method.toUpperCase(),
    path: request.path,
    params: request.params ?? null,
    query: request.query ?? null,
    body: request.body ?? null,
  });
  return createHash('sha256').update(document).digest('hex');
}
