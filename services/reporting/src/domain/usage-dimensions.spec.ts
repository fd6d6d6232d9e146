import { isServerError, routeGroupOf, statusClassOf } from './usage-dimensions';

describe('usage dimensions', () => {
  it('groups routes by their first segment after the version', () => {
    expect(routeGroupOf('/v1/billing/invoices/:invoiceId')).toBe('billing');
    expect(routeGroupOf('/v1/members')).toBe('members');
    expect(routeGroupOf('/v2/Reports/usage')).toBe('reports');
    expect(routeGroupOf('/.well-known/jwks.json')).toBe('other');
    expect(routeGroupOf('/healthz')).toBe('healthz');
    expect(routeGroupOf('/v1/:tenantId/things')).toBe('other');
    expect(routeGroupOf('')).toBe('other');
    expect(routeGroupOf('/v1')).toBe('other');
  });

  it('classes statuses, counting what is not HTTP as a server error', () => {
    expect(statusClassOf(204)).toBe('2xx');
    expect(statusClassOf(404)).toBe('4xx');
    expect(statusClassOf(503)).toBe('5xx');
    expect(statusClassOf(0)).toBe('5xx');
    expect(statusClassOf(700)).toBe('5xx');
    expect(isServerError(500)).toBe(true);
    expect(isServerError(499)).toBe(false);
  });
});
