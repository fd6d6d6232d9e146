import { HttpProblem } from '@tenantry/http';
import { DEFAULT_ROUTE_TABLE } from '../proxy/route-table';
import { OpenApiCatalog } from './openapi-catalog';

function catalog(): OpenApiCatalog {
  const c = new OpenApiCatalog(DEFAULT_ROUTE_TABLE);
  c.update('identity', {
    openapi: '3.1.0',
    paths: {
      '/v1/members/me': { get: { 'x-permission': 'authenticated' } },
      '/v1/members/{userId}': { get: { 'x-permission': 'members:read' } },
    },
  });
  c.update('authorization', {
    openapi: '3.1.0',
    paths: { '/v1/roles/{roleId}': { put: { 'x-permission': 'roles:write' } } },
  });
  return c;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('OpenApiCatalog: path parameters', () => {
  it('matches well-formed parameters, literal routes first', () => {
    expect(catalog().operationFor('GET', '/v1/members/me')?.route).toBe('/v1/members/me');
    expect(catalog().operationFor('GET', '/v1/members/caf%C3%A9')?.route).toBe(
      '/v1/members/:userId',
    );
  });

  it.each([
    ['GET', '/v1/members/%zz'],
    ['GET', '/v1/members/%'],
    ['GET', '/v1/members/%e0%80%af'],
    ['GET', '/v1/members/%ed%a0%80'],
    ['GET', '/v1/members/%00'],
    ['PUT', '/v1/roles/a%00b'],
  ])('refuses %s %s with a 400 problem instead of a URIError', (method, path) => {
    const error = thrown(() => catalog().isPublic(method, path));
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(400);
  });
});

describe('OpenApiCatalog: billing', () => {
  function withBilling(): OpenApiCatalog {
    const c = catalog();
    c.update('billing', {
      openapi: '3.1.0',
      paths: {
        '/v1/billing/subscription': { get: { 'x-permission': 'billing.subscription:read' } },
        '/v1/billing/invoices/{invoiceId}': { get: { 'x-permission': 'billing.invoices:read' } },
        // Not billing's at the gateway: neither published nor trusted for a permission.
        '/v1/members/{userId}': { delete: { 'x-permission': 'public' } },
      },
    });
    return c;
  }

  it('takes billing’s operations under /v1/billing with the permissions it declares', () => {
    const c = withBilling();
    expect(c.hasDocument('billing')).toBe(true);
    expect(c.operationFor('GET', '/v1/billing/subscription')).toMatchObject({
      service: 'billing',
      route: '/v1/billing/subscription',
      permission: 'billing.subscription:read',
    });
    expect(c.operationFor('GET', '/v1/billing/invoices/inv-1')).toMatchObject({
      service: 'billing',
      route: '/v1/billing/invoices/:invoiceId',
      permission: 'billing.invoices:read',
    });
    expect(c.isPublic('GET', '/v1/billing/subscription')).toBe(false);
  });

  it('publishes billing’s paths in the merged document, and none it does not own', () => {
    const paths = Object.keys((withBilling().document() as { paths: object }).paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/billing/subscription', '/v1/billing/invoices/{invoiceId}']),
    );
    const c = withBilling();
    expect(c.operationFor('DELETE', '/v1/members/u-1')).toBeUndefined();
  });
});
