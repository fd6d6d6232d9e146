import { randomBytes } from 'node:crypto';
import { randomBase62, sha256 } from './secret-token';

/** 12 lowercase hex characters: names the key's row (and its tenant) without the secret. */
const PREFIX = /^[0-9a-f]{12}$/;
const SECRET = /^[0-9A-Za-z]{32,128}$/;
const SECRET_LENGTH = 40;

export interface ParsedApiKey {
  readonly prefix: string;
  readonly secret: string;
}

export interface NewApiKey {
  /** Shown to the client once; never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly secretHash: Buffer;
}

/** API keys are `tnt_<prefix>_<secret>`; only the secret's SHA-256 is stored. */
export const apiKeyFormat = {
  generate(): NewApiKey {
    const prefix = randomBytes(6).toString('hex');
    const secret = randomBase62(SECRET_LENGTH);
    return { key: `tnt_${prefix}_${secret}`, prefix, secretHash: sha256(secret) };
  },

  parse(key: string): ParsedApiKey | undefined {
    const parts = key.split('_');
    if (parts.length !== 3 || parts[0] !== 'tnt') return undefined;
    const [, prefix = '', secret = ''] = parts;
    return PREFIX.test(prefix) && SECRET.test(secret) ? { prefix, secret } : undefined;
  },
};
