import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE } from '../config';
import type { SigningKeyStore } from './signing-key-store';
import { SIGNING_ALGORITHM } from './signing-key-store';

export type AccessTokenSubject =
  | {
      readonly act: 'user';
      readonly sub: string;
      readonly tid: string;
      /** The session (refresh-token family): ending it refuses its access tokens at once. */
      readonly sid: string;
    }
  | { readonly act: 'operator'; readonly sub: string };

export interface IssuedAccessToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

/**
 * Short-lived access tokens (RFC 9068 style) that the gateway verifies against the JWKS:
 * ES256 with `kid`; `iss`, `aud`, `sub`, `act`, `tid` and `sid` (users only), `iat`, `nbf`, `exp`,
 * `jti`.
 */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyStore,
    private readonly issuer: string,
    private readonly ttlSeconds: number,
  ) {}

  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    const key = await this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const claims =
      subject.act === 'user'
        ? { act: 'user', tid: subject.tid, sid: subject.sid }
        : { act: 'operator' };
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(subject.sub)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { accessToken, expiresIn: this.ttlSeconds };
  }
}
