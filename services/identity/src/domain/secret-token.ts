import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (~5.95 bits each) from the CSPRNG. */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += BASE62[randomInt(BASE62.length)];
  return out;
}

/** SHA-256 of a high-entropy secret: a slow hash buys nothing against 190+ random bits. */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of two digests. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const SECRET_LENGTH = 43;
const UUID_HEX = /^[0-9a-f]{32}$/;
const SECRET = /^[0-9A-Za-z]{43}$/;

export interface TenantBoundToken {
  readonly tenantId: string;
  readonly secret: string;
}

/**
 * Opaque tokens handed to clients (refresh tokens, invitation tokens): `<kind>_<tenant>_<secret>`.
 * The tenant part only says where to look (it is no secret: it is in the access token too);
 * the lookup is by the secret's hash inside that tenant, so tampering with it finds nothing.
 */
export const tenantBoundToken = {
  issue(kind: string, tenantId: string): { token: string; hash: Buffer } {
    const secret = randomBase62(SECRET_LENGTH);
    const token = `${kind}_${tenantId.replace(/-/g, '')}_${secret}`;
    return { token, hash: sha256(secret) };
  },

  parse(kind: string, token: string): TenantBoundToken | undefined {
    const parts = token.split('_');
    if (parts.length !== 3 || parts[0] !== kind) return undefined;
    const [, hex = '', secret = ''] = parts;
    if (!UUID_HEX.test(hex) || !SECRET.test(secret)) return undefined;
    const tenantId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return { tenantId, secret };
  },
};
