import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import {
  InvalidContextTokenKeyError,
  contextTokenKeyId,
  contextTokenKeysFromEnv,
  contextTokenSigningKeyFromEnv,
  createContextTokenKey,
  createContextTokenSigningKey,
  parseContextTokenPublicKeys,
} from './context-token-key';
import { generateContextTokenKeyPair } from './context-token-key-pair';

const current = generateContextTokenKeyPair();
const previous = generateContextTokenKeyPair();

describe('context token keys', () => {
  it('name a key by its RFC 7638 thumbprint, the same from the private and the public half', async () => {
    const jwk = current.verificationKey.publicKey.export({ format: 'jwk' });
    expect(current.kid).toBe(
      await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]),
    );
    expect(createContextTokenSigningKey(current.privateKeyPem).kid).toBe(current.kid);
    expect(createContextTokenKey(current.publicKeyPem).kid).toBe(current.kid);
    expect(contextTokenKeyId(current.verificationKey.publicKey)).toBe(current.kid);
    expect(previous.kid).not.toBe(current.kid);
  });

  it('keep the private key out of JSON and logs', () => {
    expect(JSON.stringify(current.signingKey)).toBe(JSON.stringify({ kid: current.kid }));
    expect(JSON.stringify(current)).not.toContain('PRIVATE');
  });

  it('accept only EC P-256 keys (ES256)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed = generateKeyPairSync('ed25519');
    for (const pair of [rsa, p384, ed]) {
      expect(() => createContextTokenSigningKey(pair.privateKey)).toThrow(/EC P-256/);
      expect(() => createContextTokenKey(pair.publicKey)).toThrow(/EC P-256/);
    }
    expect(() => createContextTokenSigningKey('not a pem')).toThrow(InvalidContextTokenKeyError);
  });

  it('refuse a private key where a public key belongs', () => {
    expect(() => createContextTokenKey(current.privateKeyPem)).toThrow(/private key was given/);
    expect(() =>
      parseContextTokenPublicKeys(`${current.publicKeyPem}${current.privateKeyPem}`),
    ).toThrow(/private key was given/);
  });

  it('parse one or more concatenated PEM public keys, current first, once each', () => {
    const both = `${current.publicKeyPem}\n${previous.publicKeyPem}`;
    expect(parseContextTokenPublicKeys(both).map((k) => k.kid)).toEqual([
      current.kid,
      previous.kid,
    ]);
    const twice = `${current.publicKeyPem}${current.publicKeyPem}`;
    expect(parseContextTokenPublicKeys(twice).map((k) => k.kid)).toEqual([current.kid]);
    // One line with literal \n, as an env file would carry it.
    const oneLine = current.publicKeyPem.replace(/\n/g, '\\n');
    expect(parseContextTokenPublicKeys(oneLine).map((k) => k.kid)).toEqual([current.kid]);
  });

  it('refuse anything but PEM public key blocks, and too many of them', () => {
    expect(() => parseContextTokenPublicKeys('')).toThrow(/PEM blocks/);
    expect(() => parseContextTokenPublicKeys(`${current.publicKeyPem} trailing`)).toThrow(
      /nothing else/,
    );
    expect(() => parseContextTokenPublicKeys(current.publicKeyPem.slice(0, -30))).toThrow(
      InvalidContextTokenKeyError,
    );
    const many = Array.from({ length: 5 }, () => generateContextTokenKeyPair().publicKeyPem);
    expect(() => parseContextTokenPublicKeys(many.join(''))).toThrow(/at most 4/);
  });

  it('read the gateway’s private key and the services’ public keys from the environment', () => {
    expect(() => contextTokenSigningKeyFromEnv({})).toThrow(/CONTEXT_TOKEN_PRIVATE_KEY is not set/);
    expect(() => contextTokenKeysFromEnv({})).toThrow(/CONTEXT_TOKEN_PUBLIC_KEYS is not set/);
    expect(() => contextTokenSigningKeyFromEnv({ CONTEXT_TOKEN_PRIVATE_KEY: 'x' })).toThrow(
      /^CONTEXT_TOKEN_PRIVATE_KEY: not a PEM private key/,
    );
    expect(() =>
      contextTokenKeysFromEnv({ CONTEXT_TOKEN_PUBLIC_KEYS: current.privateKeyPem }),
    ).toThrow(/^CONTEXT_TOKEN_PUBLIC_KEYS: a private key was given/);
    expect(
      contextTokenSigningKeyFromEnv({ CONTEXT_TOKEN_PRIVATE_KEY: current.privateKeyPem }).kid,
    ).toBe(current.kid);
    const env = { CONTEXT_TOKEN_PUBLIC_KEYS: `${current.publicKeyPem}${previous.publicKeyPem}` };
    expect(contextTokenKeysFromEnv(env).map((key) => key.kid)).toEqual([current.kid, previous.kid]);
  });
});
