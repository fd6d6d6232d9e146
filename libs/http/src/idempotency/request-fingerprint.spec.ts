import { canonicalJson, requestFingerprint } from './request-fingerprint';

describe('canonicalJson', () => {
  it('sorts members at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"x":2,"y":1}]},"b":1}',
    );
  });

  it('leaves out undefined members, as JSON does, and writes dates and bigints as strings', () => {
    expect(canonicalJson({ a: undefined, b: new Date('2030-01-02T03:04:05.000Z'), c: 10n })).toBe(
      '{"b":"2030-01-02T03:04:05.000Z","c":"10"}',
    );
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson([undefined])).toBe('[null]');
  });
});

describe('requestFingerprint', () => {
  const base = {
    method: 'post',
    path: '/v1/plans/:planId/subscriptions',
    params: { planId: 'p1' },
    query: undefined,
    body: { seats: 3, note: 'x' },
  };

  it('is the same for the same request, whatever the member order', () => {
    expect(requestFingerprint(base)).toBe(
      requestFingerprint({ ...base, method: 'POST', body: { note: 'x', seats: 3 } }),
    );
    expect(requestFingerprint(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['method', { method: 'put' }],
    ['route', { path: '/v1/plans/:planId' }],
    ['params', { params: { planId: 'p2' } }],
    ['query', { query: { dryRun: true } }],
    ['body', { body: { seats: 4, note: 'x' } }],
    ['a member more', { body: { seats: 3, note: 'x', extra: 1 } }],
  ])('differs with another %s', (_name, change) => {
    expect(requestFingerprint({ ...base, ...change })).not.toBe(requestFingerprint(base));
  });

  it('does not confuse a value moved between params and body', () => {
    expect(
      requestFingerprint({ ...base, params: {}, body: { planId: 'p1', seats: 3, note: 'x' } }),
    ).not.toBe(requestFingerprint(base));
  });
});
