import { DEFAULT_ROUTE_TABLE, isAmbiguousPath, parseRouteTable, resolveRoute } from './route-table';

describe('route table', () => {
  it('matches whole path segments and prefers the longest prefix', () => {
    const table = parseRouteTable({ '/v1/a': 'one', '/v1/a/b': 'two' });
    expect(resolveRoute(table, '/v1/a')?.entry.service).toBe('one');
    expect(resolveRoute(table, '/v1/a/x')?.entry.service).toBe('one');
    expect(resolveRoute(table, '/v1/a/b/c')?.entry.service).toBe('two');
    expect(resolveRoute(table, '/v1/ab')).toBeUndefined();
  });

  it('never routes internal paths', () => {
    expect(resolveRoute(DEFAULT_ROUTE_TABLE, '/internal/v1/api-keys/verify')).toBeUndefined();
    expect(resolveRoute(DEFAULT_ROUTE_TABLE, '/.well-known/jwks.json')?.entry.service).toBe(
      'identity',
    );
  });

  it('flags paths an upstream could normalise into another route', () => {
    for (const path of [
      '/v1/me/../internal',
      '/v1/me/%2e%2e/x',
      '/v1/me%2Fx',
      '/v1/me\\x',
      '//v1',
    ]) {
      expect(isAmbiguousPath(path)).toBe(true);
    }
    expect(isAmbiguousPath('/v1/members/u-1.json')).toBe(false);
  });

  it('refuses malformed entries', () => {
    expect(() => parseRouteTable({ 'v1/x': 'one' })).toThrow(/prefix/);
    expect(() => parseRouteTable({ '/v1/x': 'One Service' })).toThrow(/service/);
  });
});
