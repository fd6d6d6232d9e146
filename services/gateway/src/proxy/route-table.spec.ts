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

  it('sends every billing route to billing, and nothing else there', () => {
    // Billing's public routes (services/billing/src/http), concrete.
    for (const path of [
      '/v1/billing/plans',
      '/v1/billing/subscription',
      '/v1/billing/subscription/plan',
      '/v1/billing/subscription/cancel',
      '/v1/billing/usage',
      '/v1/billing/invoices',
      '/v1/billing/invoices/inv-1',
      '/v1/billing/invoices/inv-1/html',
      '/v1/billing/invoices/inv-1/payments',
      '/v1/billing/invoices/inv-1/void',
      '/v1/billing/invoices/inv-1/credit-notes',
    ]) {
      expect({ path, service: resolveRoute(DEFAULT_ROUTE_TABLE, path)?.entry.service }).toEqual({
        path,
        service: 'billing',
      });
    }
    expect(resolveRoute(DEFAULT_ROUTE_TABLE, '/v1/billingx')).toBeUndefined();
    // The provisional prefixes billing never served are gone: no route falls through to it.
    for (const path of ['/v1/plans', '/v1/subscriptions', '/v1/invoices/x', '/v1/usage']) {
      expect(resolveRoute(DEFAULT_ROUTE_TABLE, path)).toBeUndefined();
    }
  });

  it('sends every reporting route to reporting, and nothing else there', () => {
    // Reporting's public routes (services/reporting/src/http), concrete.
    for (const path of [
      '/v1/reports/activity',
      '/v1/reports/billing',
      '/v1/reports/members',
      '/v1/reports/members/history',
      '/v1/reports/usage',
      '/v1/reports/exports',
      '/v1/reports/exports/exp-1',
      '/v1/reports/exports/exp-1/download',
      '/v1/reports/platform/tenants',
      '/v1/reports/platform/usage',
    ]) {
      expect({ path, service: resolveRoute(DEFAULT_ROUTE_TABLE, path)?.entry.service }).toEqual({
        path,
        service: 'reporting',
      });
    }
    expect(resolveRoute(DEFAULT_ROUTE_TABLE, '/v1/reportsx')).toBeUndefined();
    expect(resolveRoute(DEFAULT_ROUTE_TABLE, '/v1/report')).toBeUndefined();
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
